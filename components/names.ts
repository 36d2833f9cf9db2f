import * as pulumi from "@pulumi/pulumi";

/**
 * The alias that keeps a child deployed under an earlier name (before children were named from
 * their component's name) the same resource, updated in place rather than replaced. None when the
 * two names happen to be equal (e.g. component `dot-ai`'s `dot-ai-secrets`).
 */
export function earlierName(current: string, earlier: string, type?: string): pulumi.Alias[] {
  return current === earlier && type === undefined ? [] : [{ name: earlier, ...(type ? { type } : {}) }];
}

/**
 * A component's options for its own registration (`super`), without `dependsOn`. The engine
 * finishes a component's registration only once everything it depends on is done, and its
 * children register only after it: a `dependsOn` kept here would hold back every child, those that
 * need nothing from it too (dev's namespace, token, Secret and Certificate waited for the whole
 * Gateway API bundle's release). The children that must come after it get it from
 * `dependenciesOf`.
 */
export function ownRegistration(opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions {
  return { ...opts, dependsOn: undefined };
}

/**
 * The resources a component was given in `opts.dependsOn`, for the children that must come after
 * them: the component itself does not carry them (`ownRegistration`). Resources, not
 * outputs of them: the children's order is decided when they are registered.
 */
export function dependenciesOf(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Resource[] {
  const given = opts?.dependsOn;
  if (given === undefined) return [];
  const list = Array.isArray(given) ? given : [given];
  if (!list.every((r) => pulumi.Resource.isInstance(r))) {
    throw new Error("dependsOn of a dot-ai-gateway component takes resources, not outputs of them");
  }
  return list as pulumi.Resource[];
}

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
 * The resources a component was given in `opts.dependsOn`, for the children that must come after
 * them: a component's own `dependsOn` orders the component, not what it registers. Resources, not
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

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CORE_SCHEMA, YAMLException, loadAll } from "js-yaml";

import { FORCE_APPLY } from "./apply";
import { GATEWAY_API_GROUP } from "./gateway-api";

export interface GatewayApiCrdsArgs {
  /** The objects of a Gateway API release manifest (standard-install.yaml), see `parseManifest`. */
  readonly objects: readonly ManifestObject[];
  /**
   * Keep the objects in the cluster when this resource is deleted.
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * Gateway API kinds whose CRDs are installed before the rest of the bundle, so that what needs
   * only them (the chart's release, an unprotected shared Gateway: see `firstCrds`) can start while
   * the rest are still being checked and created.
   * @default [] (the whole bundle at once)
   */
  readonly first?: readonly string[];
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * The Gateway API CRDs as individual Pulumi resources.
 *
 * We parse the release manifest ourselves instead of using a YAML component so that every object
 * is a first-class resource with `retainOnDelete` set on it directly: deleting a CRD deletes every
 * object of that kind in the whole cluster, so destroying one stack must never take the CRDs (and
 * everybody's Gateways and routes) with it. With retention, a destroyed stack leaves the CRDs for
 * the cluster's owners to remove deliberately.
 *
 * Bundles from v1.5.0 on also carry the `safe-upgrades` ValidatingAdmissionPolicy and its binding,
 * which make the API server refuse older Gateway API CRDs. They are installed with the CRDs and
 * retained with them: the policy guards exactly the CRDs that stay behind, so dropping it on
 * destroy would let the next install silently downgrade the API under every Gateway controller of
 * the cluster. Whoever deletes the CRDs on purpose deletes the policy with them (retainCrds false
 * does both).
 *
 * The policy and its binding come first and every CRD after the binding: the guard is in force
 * before the writes it guards. Then the CRDs of the kinds the stack creates (`first`), then the
 * rest of the bundle, so that what waits only for its own kinds (`firstCrds`: the chart's release,
 * an unprotected shared Gateway) is created while the rest is still being installed. Without that
 * order it would wait for the slowest CRD: the engine checks one resource at a time, in the order
 * they are registered; resources that wait for the same one reach the engine as the SDK finishes
 * serializing them, the largest last (HTTPRoute's CRD); and each CRD the Kubernetes provider
 * creates empties its cache of the cluster's OpenAPI document, which it reads again (1-2 s, the
 * whole document) for most of the next CRD checks. Older bundles (before v1.5) have no policy:
 * their first CRDs wait for nothing.
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
  /** The registered objects; depend on these before creating Gateway API objects. */
  public readonly resources: pulumi.CustomResource[];
  /** Names of the CustomResourceDefinitions installed. */
  public readonly crdNames: string[];
  /** The CRDs of the `first` kinds: what creates only those kinds waits for these, not the whole bundle. */
  public readonly firstCrds: pulumi.CustomResource[] = [];

  constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dot-ai-gateway:crds:GatewayApiCrds", name, {}, opts);
    const objects = args.objects;
    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
    if (crds.length === 0) {
      throw new pulumi.ResourceError("the Gateway API manifest contains no CustomResourceDefinition", this);
    }

    const childOpts: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: args.retainOnDelete ?? true };
    // Objects are passed as the upstream manifest has them; the API server validates them.
    const policies = new Map<string, pulumi.CustomResource>();
    const guards: pulumi.CustomResource[] = [];
    const first = new Set(args.first ?? []);
    const firstCrds = this.firstCrds;
    const register = (obj: ManifestObject): pulumi.CustomResource => {
      const name = obj.metadata.name;
      if (obj.kind === "ValidatingAdmissionPolicy" && isAdmissionV1(obj)) {
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
          name,
          withForcedApply(obj) as unknown as k8s.admissionregistration.v1.ValidatingAdmissionPolicyArgs,
          childOpts,
        );
        policies.set(name, policy);
        return policy;
      }
      if (obj.kind === "ValidatingAdmissionPolicyBinding" && isAdmissionV1(obj)) {
        const policy = policies.get((obj.spec as { policyName?: string } | undefined)?.policyName ?? "");
        const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
          name,
          withForcedApply(obj) as unknown as k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingArgs,
          { ...childOpts, dependsOn: policy ? [policy] : [] },
        );
        // A binding in force needs its policy: the policy is in force once the binding exists.
        if (policy) guards.push(binding);
        return binding;
      }
      if (obj.kind === "CustomResourceDefinition") {
        const kind = gatewayApiKind(obj);
        const isFirst = kind !== undefined && first.has(kind);
        const after = isFirst ? [...guards] : [...guards, ...firstCrds];
        const crd = new k8s.apiextensions.v1.CustomResourceDefinition(
          name,
          obj as unknown as k8s.apiextensions.v1.CustomResourceDefinitionArgs,
          after.length > 0 ? { ...childOpts, dependsOn: after } : childOpts,
        );
        if (isFirst) firstCrds.push(crd);
        return crd;
      }
      // Anything else a release manifest may carry, as it is.
      return new k8s.apiextensions.CustomResource(`${obj.kind.toLowerCase()}-${name}`, obj, childOpts);
    };
    // Policies, then their bindings, then the CRDs of the `first` kinds, so that what comes later
    // can wait for them; the rest in manifest order (the sort is stable).
    const rank = (o: ManifestObject) =>
      isAdmissionV1(o) && o.kind === "ValidatingAdmissionPolicy"
        ? 0
        : isAdmissionV1(o) && o.kind === "ValidatingAdmissionPolicyBinding"
          ? 1
          : first.has(gatewayApiKind(o) ?? "")
            ? 2
            : 3;
    // The kinds are checked against the manifest before anything is registered
    // (stacks/crd-manifest.ts); one missing here is a program error.
    const missing = [...first].filter((kind) => !crds.some((c) => gatewayApiKind(c) === kind));
    if (missing.length > 0) {
      throw new pulumi.ResourceError(`the Gateway API manifest has no CRD for ${missing.join(", ")}`, this);
    }
    this.resources = [...objects].sort((a, b) => rank(a) - rank(b)).map(register);
    this.crdNames = crds.map((c) => c.metadata.name);
    this.registerOutputs({ crdNames: this.crdNames });
  }
}

/** The kind a Gateway API CRD defines, or undefined for any other object. */
export function gatewayApiKind(obj: ManifestObject): string | undefined {
  if (obj.kind !== "CustomResourceDefinition") return undefined;
  const spec = obj.spec as { group?: string; names?: { kind?: string } } | undefined;
  return spec?.group === GATEWAY_API_GROUP ? spec.names?.kind : undefined;
}

/**
 * The admission policy and binding as the bundle ships them, applied with force. The API server
 * fills defaults into `.spec.matchConstraints`, a field that server-side apply replaces as a whole,
 * so a second field manager applying the same upstream object always conflicts with the first:
 * seen with this policy kept by a destroyed stack and applied again by the next one, and after
 * `kubectl apply --server-side` of the bundle. Only the bundle's own object is ever applied here,
 * so taking the fields over loses nothing.
 */
function withForcedApply(obj: ManifestObject): ManifestObject {
  const annotations = { ...(obj.metadata.annotations as Record<string, string> | undefined), ...FORCE_APPLY };
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

function isAdmissionV1(obj: ManifestObject): boolean {
  return obj.apiVersion === "admissionregistration.k8s.io/v1";
}

/** The objects of a multi-document YAML manifest, refusing anything that is not a Kubernetes object. */
export function parseManifest(manifest: string): ManifestObject[] {
  let documents: unknown[];
  try {
    // The core schema: what Kubernetes reads (no dates or other YAML 1.1 types).
    documents = loadAll(manifest, null, { schema: CORE_SCHEMA });
  } catch (err) {
    if (err instanceof YAMLException && err.mark) {
      throw new Error(`line ${err.mark.line + 1}, column ${err.mark.column + 1}: ${err.reason}`, { cause: err });
    }
    throw err;
  }
  // Numbered by their place in the file, empty (comment-only) documents included, as an editor
  // counts them: the upstream bundles start with comment-only documents.
  const objects: ManifestObject[] = [];
  documents.forEach((obj, index) => {
    if (obj === null || obj === undefined) return;
    const o = obj as Partial<ManifestObject>;
    if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string") {
      throw new Error(`manifest document ${index + 1} is not a Kubernetes object (apiVersion, kind, metadata.name)`);
    }
    objects.push(o as ManifestObject);
  });
  return objects;
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CORE_SCHEMA, YAMLException, loadAll } from "js-yaml";

import { FORCE_APPLY } from "./apply";
import { GATEWAY_API_GROUP } from "./gateway-api";

export interface GatewayApiCrdsArgs {
  /** The objects of a Gateway API release manifest (standard-install.yaml), see `parseManifest`. */
  readonly objects: readonly ManifestObject[];
  /**
   * The chart that holds the bundle's other objects (`chartObjects`), as stacks/bundle-chart.ts
   * wrote it: its path, relative to the project or absolute.
   */
  readonly chartPath: string;
  /** The Helm release to install the chart as. */
  readonly release: { readonly name: string; readonly namespace: string };
  /**
   * Keep the bundle in the cluster when this resource is deleted: the admission policy, its
   * binding and the release (whose objects Helm's `keep` policy, which the chart then carries,
   * keeps through any uninstall).
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * CRDs of the bundle already in the cluster that the release takes over: the stack gives them
   * Helm's ownership label and annotations first, through one patch each, which Helm requires of
   * an object it did not create. Used by stacks that installed the CRDs as Pulumi resources.
   * @default []
   */
  readonly adopt?: readonly string[];
  /**
   * The release exists in the cluster: import it, so that a stack whose state does not hold it (a
   * second stack on the cluster, one whose first `pulumi up` was killed after Helm's install) takes
   * it on instead of failing with "cannot re-use a name that is still in use". The engine ignores
   * the import when the state already holds the release.
   * @default false
   */
  readonly importRelease?: boolean;
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Helm leaves an object it no longer renders (or uninstalls) in place when the live object carries
 * this annotation.
 */
export const KEEP_POLICY = { "helm.sh/resource-policy": "keep" } as const;

/** Helm's ownership metadata keys: which release an object belongs to. */
export const HELM_OWNER = {
  managedByLabel: "app.kubernetes.io/managed-by",
  releaseName: "meta.helm.sh/release-name",
  releaseNamespace: "meta.helm.sh/release-namespace",
} as const;

/** Helm's ownership metadata, which it requires on an object it did not create before it takes it over. */
export function helmOwnership(release: { name: string; namespace: string }) {
  return {
    labels: { [HELM_OWNER.managedByLabel]: "Helm" },
    annotations: { [HELM_OWNER.releaseName]: release.name, [HELM_OWNER.releaseNamespace]: release.namespace },
  };
}

/**
 * The Gateway API bundle: its CRDs as one Helm release of a chart generated from the bundle
 * (stacks/bundle-chart.ts explains why), and its `safe-upgrades` admission policy and binding as
 * resources of their own, before the release.
 *
 * The policy and binding stay outside the chart because Helm has no install order for admission
 * kinds: as resources the release depends on, the guard is in force before the writes it guards.
 * Everything is retained (`retainOnDelete`): the CRDs, because deleting one deletes every object
 * of its kind in the cluster; the release, because every stack of this program on the cluster
 * shares it (stacks/bundle-chart.ts), so one stack's `pulumi destroy` must not uninstall what the
 * others use; the policy, because it guards exactly the CRDs that stay behind, and dropping it
 * would let the next install silently downgrade the API under every Gateway controller of the
 * cluster. Whoever deletes the CRDs on purpose deletes the rest with them (retainCrds false does
 * all of it: the release is then uninstalled, and its CRDs carry no `keep`).
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
  /** Everything registered; what must wait for the whole bundle depends on these. */
  public readonly resources: pulumi.Resource[];
  /** The release of the bundle's CRDs: what creates Gateway API objects depends on it. */
  public readonly release: k8s.helm.v3.Release;
  /** Names of the CustomResourceDefinitions installed. */
  public readonly crdNames: string[];

  constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dot-ai-gateway:crds:GatewayApiCrds", name, {}, opts);
    const { admission, chartObjects } = splitBundle(args.objects);
    const crds = chartObjects.filter((o) => o.kind === "CustomResourceDefinition");
    if (crds.length === 0) {
      throw new pulumi.ResourceError("the Gateway API manifest contains no CustomResourceDefinition", this);
    }

    const retain: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: args.retainOnDelete ?? true };
    // Upstream names, as the stack's state has known them since before the release existed.
    const policies = new Map<string, pulumi.CustomResource>();
    for (const o of admission.filter((a) => a.kind === "ValidatingAdmissionPolicy")) {
      const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        o.metadata.name,
        withForcedApply(o) as unknown as k8s.admissionregistration.v1.ValidatingAdmissionPolicyArgs,
        retain,
      );
      policies.set(o.metadata.name, policy);
    }
    const bindings = admission
      .filter((o) => o.kind === "ValidatingAdmissionPolicyBinding")
      .map((o) => {
        const policy = policies.get((o.spec as { policyName?: string } | undefined)?.policyName ?? "");
        return new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
          o.metadata.name,
          withForcedApply(o) as unknown as k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingArgs,
          { ...retain, dependsOn: policy ? [policy] : [] },
        );
      });
    // A binding in force needs its policy: the guard is in force once the bindings exist.
    const guards: pulumi.Resource[] = bindings.length > 0 ? bindings : [...policies.values()];

    // Kept on deletion whatever retainCrds says: the labels they set are what lets the release
    // (or the next stack's) manage the CRDs, and the release's uninstall decides their fate.
    const ownership = helmOwnership(args.release);
    const adoptions = (args.adopt ?? []).map((crdName) => {
      const crd = crds.find((c) => c.metadata.name === crdName);
      if (crd === undefined) throw new pulumi.ResourceError(`the bundle has no CRD ${crdName} to take over`, this);
      // The identity fields too, as the bundle has them (the values the CRD holds already): the
      // provider records every CRD it is given, a patch included, and reads from it whether the
      // kind is namespaced (pkg/clients: CRDCache); without them it refuses the patch.
      const { group, names, scope } = crd.spec as {
        group: string;
        names: k8s.types.input.apiextensions.v1.CustomResourceDefinitionNamesPatch;
        scope: string;
      };
      return new k8s.apiextensions.v1.CustomResourceDefinitionPatch(
        `${name}-adopt-${crdName}`,
        { metadata: { name: crdName, ...ownership }, spec: { group, names, scope } },
        { parent: this, retainOnDelete: true, dependsOn: guards },
      );
    });

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: args.release.name,
        namespace: args.release.namespace,
        chart: args.chartPath,
        // Helm waits for each CRD to be Established, so what depends on the release finds its kinds served.
        skipAwait: false,
        // Each revision is a Secret of most of a mebibyte: a few are enough to roll back.
        maxHistory: 3,
      },
      {
        ...retain,
        dependsOn: [...guards, ...adoptions],
        import: args.importRelease ? `${args.release.namespace}/${args.release.name}` : undefined,
      },
    );
    this.resources = [...policies.values(), ...bindings, ...adoptions, this.release];
    this.crdNames = crds.map((c) => c.metadata.name);
    this.registerOutputs({ crdNames: this.crdNames, release: this.release.status });
  }
}

/**
 * The bundle's admission objects (the safe-upgrades policy and binding, from v1.5.0 on), which the
 * stack registers itself, and the rest, which the chart holds.
 */
export function splitBundle(objects: readonly ManifestObject[]): {
  admission: ManifestObject[];
  chartObjects: ManifestObject[];
} {
  const isAdmission = (o: ManifestObject) =>
    o.apiVersion === "admissionregistration.k8s.io/v1" &&
    (o.kind === "ValidatingAdmissionPolicy" || o.kind === "ValidatingAdmissionPolicyBinding");
  return { admission: objects.filter(isAdmission), chartObjects: objects.filter((o) => !isAdmission(o)) };
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

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";

export interface GatewayApiCrdsArgs {
  /** The multi-document manifest of a Gateway API release (e.g. standard-install.yaml). */
  manifest: string;
  /** Keep the objects in the cluster when this resource is deleted (default true). */
  retainOnDelete?: boolean;
}

interface ManifestObject {
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
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
  /** The registered objects; depend on these before creating Gateway API objects. */
  public readonly resources: pulumi.CustomResource[];
  /** Names of the CustomResourceDefinitions installed. */
  public readonly crdNames: string[];

  constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dot-ai-gateway:crds:GatewayApiCrds", name, {}, opts);
    const objects = parseManifest(args.manifest);
    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
    if (crds.length === 0) throw new Error(`${name}: the Gateway API manifest contains no CustomResourceDefinition`);

    const childOpts: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: args.retainOnDelete ?? true };
    this.resources = objects.map((obj) =>
      obj.kind === "CustomResourceDefinition"
        ? new k8s.apiextensions.v1.CustomResourceDefinition(
            obj.metadata.name,
            // Parsed from the upstream release manifest as it is; the API server validates it.
            obj as unknown as k8s.apiextensions.v1.CustomResourceDefinitionArgs,
            childOpts,
          )
        : // Release manifests may carry companions of the CRDs (e.g. a ValidatingAdmissionPolicy).
          new k8s.apiextensions.CustomResource(`${obj.kind.toLowerCase()}-${obj.metadata.name}`, obj, childOpts),
    );
    this.crdNames = crds.map((c) => c.metadata.name);
    this.registerOutputs({ crdNames: this.crdNames });
  }
}

/** The objects of a multi-document YAML manifest, refusing anything that is not a Kubernetes object. */
export function parseManifest(manifest: string): ManifestObject[] {
  return YAML.parseAllDocuments(manifest)
    .map((doc, index) => {
      if (doc.errors.length > 0) throw new Error(`manifest document ${index + 1}: ${doc.errors[0].message}`);
      return doc.toJS() as unknown;
    })
    .filter((obj) => obj !== null && obj !== undefined)
    .map((obj, index) => {
      const o = obj as Partial<ManifestObject>;
      if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string") {
        throw new Error(`manifest document ${index + 1} is not a Kubernetes object (apiVersion, kind, metadata.name)`);
      }
      return o as ManifestObject;
    });
}

// The floor `npm run bench -- floor` measures: the least a Pulumi program can cost on the same engine,
// providers, loader and cluster as ours. The Kubernetes provider and one Namespace; with config
// `bench-floor:crds` true, also the Gateway API bundle's CRDs (GATEWAY_API_CRDS_FILE) as plain
// resources, nothing else: no checks, no ordering, no release.
import * as fs from "fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CORE_SCHEMA, loadAll } from "js-yaml";

interface ManifestObject {
  kind?: string;
  metadata?: { name?: string };
}

const provider = new k8s.Provider("floor", {});
new k8s.core.v1.Namespace("floor", { metadata: { name: "bench-floor" } }, { provider });

if (new pulumi.Config().getBoolean("crds")) {
  const file = process.env.GATEWAY_API_CRDS_FILE;
  if (!file) throw new Error("GATEWAY_API_CRDS_FILE is not set");
  const documents = loadAll(fs.readFileSync(file, "utf8"), null, { schema: CORE_SCHEMA }) as ManifestObject[];
  for (const doc of documents) {
    if (doc?.kind !== "CustomResourceDefinition" || !doc.metadata?.name) continue;
    new k8s.apiextensions.v1.CustomResourceDefinition(
      doc.metadata.name,
      doc as unknown as k8s.apiextensions.v1.CustomResourceDefinitionArgs,
      { provider },
    );
  }
}

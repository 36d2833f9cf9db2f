/** What the end-to-end tests read of a deployed dot-ai release (namespace dot-ai, release dot-ai). */
import * as semver from "semver";

import { KubeObject, kubectlJson } from "./tools";

/** The floor and the newest verified chart: both are deployed by the end-to-end tests. */
export const CHART_VERSIONS = ["0.170.0", "2.2.2"];
export const APP_NS = "dot-ai";
/** The placeholder API keys toolchain/env.sh sets (as secrets) on local stacks. */
export const KEYS = ["local-anthropic-key-not-real", "local-openai-key-not-real"];

export function secretData(): Record<string, string> {
  const secret = kubectlJson(["get", "secret", "dot-ai-secrets", "-n", APP_NS]);
  return Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
  );
}

export function deployment(name = "dot-ai"): KubeObject {
  return kubectlJson(["get", "deployment", name, "-n", APP_NS]);
}

/** The revision of the Secret's content that the program puts into dot-ai's pod template. */
export function podTemplateRevision(): string | undefined {
  for (const container of deployment().spec.template.spec.containers as KubeObject[]) {
    const env = (container.env ?? []).find((e: KubeObject) => e.name === "DOT_AI_SECRETS_REVISION");
    if (env) return env.value;
  }
  return undefined;
}

/** The Deployments the chart of `version` renders: from 1.0.1 on, the agentic-tools plugin too. */
export function deploymentsOf(version: string): string[] {
  return semver.lt(version, "1.0.1") ? ["dot-ai"] : ["dot-ai", "dot-ai-agentic-tools"];
}

/** Every replica of the Deployment is of its newest template and Ready. */
export function deploymentReady(name: string): boolean {
  const d = deployment(name);
  const want = d.spec.replicas ?? 1;
  return (
    d.status?.observedGeneration === d.metadata.generation &&
    d.status?.readyReplicas === want &&
    d.status?.updatedReplicas === want &&
    d.status?.replicas === want
  );
}

/** The bundled Qdrant: its StatefulSet Ready and its claim Bound to one of the cluster's volumes. */
export function qdrantReady(): boolean {
  const sts = kubectlJson(["get", "statefulset", "dot-ai-qdrant", "-n", APP_NS]);
  const claim = kubectlJson(["get", "pvc", "qdrant-storage-dot-ai-qdrant-0", "-n", APP_NS]);
  return sts.status?.readyReplicas === 1 && claim.status?.phase === "Bound";
}

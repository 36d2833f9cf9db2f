/**
 * The steps of moving a dot-ai that the upstream quick start installed (plain `helm install`,
 * Ingress on, token via `--set`) to Gateway API with a stack that adopts it (docs/migration.md):
 * shared by the control-plane suite (migration.e2e.ts) and the data-plane one (data-plane.e2e.ts).
 */
import * as assert from "assert";
import * as crypto from "crypto";

import { KEYS } from "./dot-ai";
import { GATEWAY_CLASS, KubeObject, chartPackage, eventually, exists, kubectlJson, pulumi, run } from "./tools";

export const NS = "dot-ai";
export const RELEASE = "dot-ai";
export const HOST = "dot-ai.example.com";
const PVC = "qdrant-storage-dot-ai-qdrant-0";
export const GATEWAY = { name: "cluster-gateway", namespace: "gateway-system" };

/** `helm install` as the upstream quick start runs it: Ingress on, keys and token via --set. */
export function quickStartInstall(version: string, token: string): void {
  run("helm", [
    "install",
    RELEASE,
    chartPackage(version),
    "--namespace",
    NS,
    "--create-namespace",
    "--set",
    `secrets.anthropic.apiKey=${KEYS[0]}`,
    "--set",
    `secrets.openai.apiKey=${KEYS[1]}`,
    "--set",
    `secrets.auth.token=${token}`,
    "--set",
    "ingress.enabled=true",
    "--set",
    "ingress.className=nginx",
    "--set",
    `ingress.host=${HOST}`,
    "--wait",
    "--timeout",
    "5m",
  ]);
}

/** A new stack adopting the quick start's release, as docs/migration.md sets it up. */
export function adoptingStack(stack: string, version: string): void {
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  pulumi(stack, ["stack", "init"]);
  const plain: Record<string, string> = {
    mode: "reference",
    hostname: HOST,
    domain: "example.com",
    gatewayClassName: GATEWAY_CLASS,
    clusterIssuer: "letsencrypt-prod",
    allowedRoutes: "Selector",
    chart: chartPackage(version),
    gatewayApiCrdsFile: process.env.GATEWAY_API_CRDS_FILE ?? "",
    migrateFrom: `${NS}/${RELEASE}`,
  };
  pulumi(stack, [
    "config",
    "set-all",
    ...Object.entries(plain).flatMap(([k, v]) => ["--plaintext", `dot-ai-gateway:${k}=${v}`]),
    "--secret",
    `dot-ai-gateway:anthropicApiKey=${KEYS[0]}`,
    "--secret",
    `dot-ai-gateway:openaiApiKey=${KEYS[1]}`,
  ]);
}

export const digest = (s: string) => crypto.createHash("sha256").update(s).digest("hex").slice(0, 12);

/** The token dot-ai's pods read: the key their env names, in the Secret it names. */
export function servedToken(): string {
  const deployment = kubectlJson(["get", "deployment", RELEASE, "-n", NS]);
  const env = (deployment.spec.template.spec.containers as KubeObject[])
    .flatMap((c) => (c.env ?? []) as KubeObject[])
    .find((e) => e.name === "DOT_AI_AUTH_TOKEN");
  const ref = env?.valueFrom?.secretKeyRef;
  assert.ok(ref, "dot-ai reads its token from a Secret");
  const secret = kubectlJson(["get", "secret", ref.name, "-n", NS]);
  return Buffer.from(secret.data[ref.key], "base64").toString();
}

export function pvcUid(): string {
  return kubectlJson(["get", "pvc", PVC, "-n", NS]).metadata.uid;
}

/** Everything a migration left: the stack, the quick start's release, both namespaces. */
export async function removeAll(stack: string): Promise<void> {
  pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"], { allowFailure: true });
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  run("helm", ["uninstall", RELEASE, "-n", NS, "--wait"], { allowFailure: true });
  run("kubectl", ["delete", "namespace", NS, GATEWAY.namespace, "--ignore-not-found", "--wait=false"]);
  await eventually(`namespaces ${NS}, ${GATEWAY.namespace} to be deleted`, () =>
    [NS, GATEWAY.namespace].every((n) => !exists(["namespace", n])),
  );
}

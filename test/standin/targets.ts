/**
 * Where the dot-ai stand-in answers, read from the cluster the way Kubernetes would route to a dot-ai
 * pod: a Deployment whose server container reads `DOT_AI_AUTH_TOKEN`, with at least one Ready
 * replica; the Services that select its pods, at their ClusterIP and port (the sandbox's Service
 * range is loopback, so a local process can listen there); the token from the Secret key its env
 * names, as the container would read it. Pure: main.ts does the reading.
 */
import type { V1Deployment, V1Secret, V1Service } from "@kubernetes/client-node";

/** The environment variable dot-ai reads its bearer token from (every chart version). */
export const TOKEN_ENV = "DOT_AI_AUTH_TOKEN";

export interface Target {
  /** `<namespace>/<Service>`. */
  name: string;
  address: string;
  port: number;
  /** The token its pods read; undefined when the Secret or key is missing (then it refuses all). */
  token: string | undefined;
  /** Where the token came from, for the log: `Secret <ns>/<name> key <key>`. */
  tokenSource: string;
}

export interface ClusterView {
  deployments: V1Deployment[];
  services: V1Service[];
  secrets: V1Secret[];
}

/** Every address:port where a dot-ai pod would answer now. */
export function targets(view: ClusterView): Target[] {
  const found: Target[] = [];
  for (const d of view.deployments) {
    const ns = d.metadata?.namespace ?? "default";
    const env = (d.spec?.template.spec?.containers ?? []).flatMap((c) => c.env ?? []).find((e) => e.name === TOKEN_ENV);
    if (!env || (d.status?.readyReplicas ?? 0) < 1) continue;
    const ref = env.valueFrom?.secretKeyRef;
    const secret = ref && view.secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === ref.name);
    const encoded = ref ? secret?.data?.[ref.key] : undefined;
    const token = env.value ?? (encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8"));
    const tokenSource = ref ? `Secret ${ns}/${ref.name} key ${ref.key}` : "a literal value";
    const podLabels = d.spec?.template.metadata?.labels ?? {};
    for (const s of view.services) {
      const selector = s.spec?.selector;
      const ip = s.spec?.clusterIP;
      if (s.metadata?.namespace !== ns || !selector || !ip || ip === "None") continue;
      if (!Object.entries(selector).every(([k, v]) => podLabels[k] === v)) continue;
      for (const p of s.spec?.ports ?? []) {
        if ((p.protocol ?? "TCP") !== "TCP") continue;
        found.push({ name: `${ns}/${s.metadata.name}`, address: ip, port: p.port, token, tokenSource });
      }
    }
  }
  return found;
}

/** Whether the stand-in may listen on `address`: loopback only, never a made-up cluster address. */
export function isLoopback(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

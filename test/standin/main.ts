/**
 * The dot-ai **stand-in** process of the local sandbox (toolchain/cluster.sh starts it with the
 * Traefik data plane): pods on the fake nodes run nothing, so this answers in their place. Every
 * second it reads the cluster (KUBECONFIG) and listens on each dot-ai Service's ClusterIP:port with
 * a Ready Deployment behind it (targets.ts), answering as dot-ai's pod would (server.ts), with the
 * token its pods read from their Secret; it stops listening when the Service or the last Ready
 * replica goes. It proves the path through the Gateway to the Service, not dot-ai (README.md).
 *
 *   node -r ts-node/register/transpile-only test/standin/main.ts
 */
import type * as http from "http";
import * as k8s from "@kubernetes/client-node";

import { createStandinServer } from "./server";
import { ClusterView, Target, isLoopback, targets } from "./targets";

const POLL_MS = 1000;

interface Served {
  target: Target;
  server: http.Server;
}

const log = (message: string) => console.log(`[dot-ai stand-in ${new Date().toISOString()}] ${message}`);

async function readCluster(kc: k8s.KubeConfig): Promise<ClusterView> {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const [deployments, services] = await Promise.all([
    apps.listDeploymentForAllNamespaces(),
    core.listServiceForAllNamespaces(),
  ]);
  // Only the Secrets a dot-ai container names: Helm's release Secrets are large and many.
  const wanted = new Map<string, { namespace: string; name: string }>();
  for (const d of deployments.items) {
    for (const e of (d.spec?.template.spec?.containers ?? []).flatMap((c) => c.env ?? [])) {
      const ref = e.valueFrom?.secretKeyRef;
      const namespace = d.metadata?.namespace ?? "default";
      if (ref?.name) wanted.set(`${namespace}/${ref.name}`, { namespace, name: ref.name });
    }
  }
  const secrets = await Promise.all(
    [...wanted.values()].map((s) => core.readNamespacedSecret(s).catch(() => undefined)),
  );
  return {
    deployments: deployments.items,
    services: services.items,
    secrets: secrets.filter((s): s is k8s.V1Secret => s !== undefined),
  };
}

function stop(key: string, served: Map<string, Served>, why: string): void {
  const s = served.get(key);
  if (!s) return;
  served.delete(key);
  s.server.close();
  // As the pod going away: open streams end too.
  s.server.closeAllConnections();
  log(`stopped ${s.target.name} on ${key} (${why})`);
}

async function listen(target: Target, served: Map<string, Served>, key: string): Promise<void> {
  const entry: Served = {
    target,
    server: createStandinServer({ name: target.name, token: () => entry.target.token }),
  };
  await new Promise<void>((resolve, reject) => {
    entry.server.once("error", reject);
    entry.server.listen(target.port, target.address, () => resolve());
  });
  served.set(key, entry);
  log(`serving ${target.name} on ${key} as dot-ai's pods would, token from ${target.tokenSource}`);
}

async function main(): Promise<void> {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const served = new Map<string, Served>();
  const skipped = new Set<string>();
  let stopping = false;
  const shutdown = () => {
    stopping = true;
    for (const key of [...served.keys()]) stop(key, served, "shutting down");
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  log(`started; reading the cluster every ${POLL_MS} ms`);
  let lastError = "";
  while (!stopping) {
    try {
      const wanted = new Map<string, Target>();
      for (const t of targets(await readCluster(kc))) {
        const key = `${t.address}:${t.port}`;
        if (!isLoopback(t.address)) {
          if (!skipped.has(key))
            log(`not serving ${t.name} on ${key}: not a loopback address (the Service range must be)`);
          skipped.add(key);
          continue;
        }
        wanted.set(key, t);
      }
      for (const key of [...served.keys()]) if (!wanted.has(key)) stop(key, served, "no Ready dot-ai behind it");
      for (const [key, target] of wanted) {
        const s = served.get(key);
        if (s) {
          if (s.target.token !== target.token) log(`${target.name}: the token its pods read changed`);
          s.target = target;
        } else {
          await listen(target, served, key).catch((e: Error) =>
            log(`cannot listen on ${key} for ${target.name}: ${e.message}`),
          );
        }
      }
      lastError = "";
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastError) log(`reading the cluster failed (retrying): ${message}`);
      lastError = message;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});

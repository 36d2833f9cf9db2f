/**
 * The cluster the program's Kubernetes provider talks to, for the reads made before anything is
 * registered (stacks/storage-check.ts, stacks/crd-precheck.ts) and by `doctor`: the same
 * `kubernetes:kubeconfig` / `context` / `cluster` settings, read the way pulumi-kubernetes reads
 * them, with @kubernetes/client-node.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as pulumi from "@pulumi/pulumi";

import { measured } from "./timing";

type K8s = typeof import("@kubernetes/client-node");

/**
 * @kubernetes/client-node, loaded on first use (0.3 to 0.7 s: its index loads every generated API
 * and model), so that a run that reads no cluster never pays for it; measured for the bench.
 */
let clientLibrary: Promise<K8s> | undefined;
export function loadClientLibrary(): Promise<K8s> {
  clientLibrary ??= measured("load @kubernetes/client-node", () => import("@kubernetes/client-node"));
  return clientLibrary;
}

export interface ClusterSelection {
  /** Contents of, or path to, a kubeconfig; KUBECONFIG or ~/.kube/config when unset. */
  kubeconfig?: string;
  context?: string;
  cluster?: string;
}

/** The stack's `kubernetes:*` settings, as the program's provider receives them. */
export function clusterSelection(): ClusterSelection {
  // The raw config, not pulumi.Config: the kubeconfig is usually a secret and Config.get would
  // warn about reading one in plain text; the value never leaves this process.
  const config = pulumi.runtime.allConfig();
  return {
    kubeconfig: config["kubernetes:kubeconfig"] || undefined,
    context: config["kubernetes:context"] || undefined,
    cluster: config["kubernetes:cluster"] || undefined,
  };
}

/** The kubeconfig as pulumi-kubernetes reads its settings: contents or a path, then context and cluster. */
export function loadKubeConfig(k8s: K8s, selection: ClusterSelection): InstanceType<K8s["KubeConfig"]> {
  const kc = new k8s.KubeConfig();
  if (selection.kubeconfig === undefined) kc.loadFromDefault();
  else if (!selection.kubeconfig.includes("\n") && fs.existsSync(selection.kubeconfig))
    kc.loadFromFile(selection.kubeconfig);
  else kc.loadFromString(selection.kubeconfig);
  if (selection.context !== undefined) kc.setCurrentContext(selection.context);
  const cluster = selection.cluster;
  if (cluster !== undefined) {
    const current = kc.getCurrentContext();
    kc.contexts = kc.contexts.map((c) => (c.name === current ? { ...c, cluster } : c));
  }
  return kc;
}

/** A cluster read that gives up after `ms`, so that a check can skip itself instead of hanging the program. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A request to the cluster's API server: status and body, whatever the status. */
export type Requester = (
  method: string,
  path: string,
  body?: unknown,
  accept?: string,
) => Promise<{ status: number; body: string }>;

/**
 * Requests to the API server the `kubernetes:*` settings name, with @kubernetes/client-node's
 * credentials (loaded on first use) and Node's http(s). Not client-node's typed APIs: these reads
 * ask for metadata only (`PartialObjectMetadata`), which those do not offer, and stay one round
 * trip each.
 */
export async function apiRequester(selection: ClusterSelection): Promise<Requester> {
  const k8s = await loadClientLibrary();
  const kc = loadKubeConfig(k8s, selection);
  const server = kc.getCurrentCluster()?.server?.replace(/\/+$/, "");
  if (!server) throw new Error("the kubeconfig names no cluster server");
  return async (method, path, body, accept = "application/json") => {
    const options: https.RequestOptions = { method, headers: { Accept: accept } };
    if (body !== undefined) options.headers = { ...options.headers, "Content-Type": "application/json" };
    await kc.applyToHTTPSOptions(options);
    return send(`${server}${path}`, options, body === undefined ? undefined : JSON.stringify(body));
  };
}

function send(url: string, options: https.RequestOptions, body?: string): Promise<{ status: number; body: string }> {
  const request = url.startsWith("http:") ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * The one way to the cluster, for the reads made before anything is registered (this folder) and
 * by `doctor`: the cluster the program's Kubernetes provider talks to (the same
 * `kubernetes:kubeconfig` / `context` / `cluster` settings, read the way pulumi-kubernetes reads
 * them), through @kubernetes/client-node.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";

import { measured } from "../stacks/timing";

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

/**
 * A cluster read that gives up after `ms`, so that a check can skip itself (or doctor report the
 * step, `what`) instead of hanging.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what?: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what ? `${what}: ` : ""}no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Ask the API server for an object's metadata only: the reads here need nothing else. */
export const PARTIAL_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
/** The same for a list. */
export const PARTIAL_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/**
 * A GET of the API server: the parsed JSON, or undefined when it answers 404. Any other status
 * fails with the path and the start of the answer. Reads only: nothing here can write.
 */
export type ClusterGet = (path: string, accept?: string) => Promise<unknown>;

/**
 * GETs through @kubernetes/client-node, against the API server the `kubernetes:*` settings name:
 * its credentials (tokens, client certificates, exec plugins) and its HTTP layer, the one its typed
 * APIs use. Not the typed APIs themselves, because these reads ask for metadata only
 * (`PartialObjectMetadata`, which they cannot parse) or for API discovery of any group.
 */
export async function clusterGet(selection: ClusterSelection): Promise<ClusterGet> {
  const k8s = await loadClientLibrary();
  const kc = loadKubeConfig(k8s, selection);
  const server = kc.getCurrentCluster()?.server?.replace(/\/+$/, "");
  if (!server) throw new Error("the kubeconfig names no cluster server");
  const config = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(server, {}),
    authMethods: { default: kc },
  });
  return async (path, accept = "application/json") => {
    const request = config.baseServer.makeRequestContext(path, k8s.HttpMethod.GET);
    request.setHeaderParam("Accept", accept);
    await config.authMethods.default?.applySecurityAuthentication(request);
    const response = await config.httpApi.send(request).toPromise();
    const body = await response.body.text();
    if (response.httpStatusCode === 404) return undefined;
    if (response.httpStatusCode < 200 || response.httpStatusCode >= 300) {
      throw new Error(`GET ${path}: HTTP ${response.httpStatusCode} ${body.slice(0, 200)}`);
    }
    try {
      return JSON.parse(body) as unknown;
    } catch (err) {
      throw new Error(`GET ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
}

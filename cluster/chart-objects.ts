/**
 * Are the objects of the deployed Helm revision still in the cluster?
 *
 * The Helm release resource tracks the release's revision, not the objects Helm rendered: an
 * object of the chart deleted by hand (the HTTPRoute, the Deployment, the dev Gateway) is seen by
 * neither `pulumi refresh` nor `pulumi up`, and stays deleted until the next change of the
 * release's inputs (measured in test/e2e/faults.e2e.ts). This check reads the deployed revision's
 * manifest from Helm's record (the same read as the pending-revision check, cluster/release-check.ts)
 * and GETs each object's metadata, all at once, before anything is registered.
 *
 * It only reads. The repair goes through the engine: cluster/release-check.ts turns the missing
 * objects into a change of the release's `description`, which `preview` shows as an update of the
 * release and `up` performs as a Helm upgrade, in which Helm creates every object of the release
 * that does not exist (as it always does on upgrade).
 */
import * as zlib from "zlib";
import { CORE_SCHEMA, loadAll } from "js-yaml";

import { ClusterGet, ClusterSelection, PARTIAL_OBJECT, clusterGet } from "./client";

/** An object of a rendered manifest, as much of it as this check needs, plus the object itself. */
export interface ChartObject {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for a cluster-scoped object. */
  namespace?: string;
  /** The object as rendered. */
  object: Record<string, unknown>;
}

/** `Kind namespace/name` (or `Kind name`), as the messages name objects. */
export function describeObject(o: Pick<ChartObject, "kind" | "name" | "namespace">): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}

/** What this program reads of a Helm release record. */
export interface ReleaseRecord {
  manifest: string;
  description?: string;
  /** The values the release was installed or upgraded with (Helm's `config`: only those given, no chart defaults). */
  values?: Record<string, unknown>;
  /** The chart's name and version (Helm's `chart.metadata`). */
  chart?: { name: string; version: string };
}

/**
 * The parts of a Helm release record this program reads: `data` is the Secret's `release` value
 * once the Kubernetes base64 is undone, i.e. Helm's own base64 of the gzipped JSON (older Helm:
 * plain JSON).
 */
export function releaseRecord(data: string): ReleaseRecord {
  let bytes = Buffer.from(data, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  const release = JSON.parse(bytes.toString("utf8")) as {
    manifest?: unknown;
    info?: { description?: unknown };
    config?: unknown;
    chart?: { metadata?: { name?: unknown; version?: unknown } };
  };
  if (typeof release.manifest !== "string") throw new Error("the Helm release record has no manifest");
  const description = release.info?.description;
  const { name, version } = release.chart?.metadata ?? {};
  const values = release.config;
  return {
    manifest: release.manifest,
    ...(typeof description === "string" ? { description } : {}),
    ...(values !== null && typeof values === "object" ? { values: values as Record<string, unknown> } : {}),
    ...(typeof name === "string" && typeof version === "string" ? { chart: { name, version } } : {}),
  };
}

/**
 * Where the API serves a kind: its plural and whether it is namespaced. The kinds charts commonly
 * render; any other kind is looked up in the API server's discovery.
 */
const KNOWN_KINDS: Readonly<Record<string, readonly [plural: string, namespaced: boolean]>> = {
  "/ConfigMap": ["configmaps", true],
  "/Secret": ["secrets", true],
  "/Service": ["services", true],
  "/ServiceAccount": ["serviceaccounts", true],
  "/PersistentVolumeClaim": ["persistentvolumeclaims", true],
  "/Pod": ["pods", true],
  "/Namespace": ["namespaces", false],
  "apps/Deployment": ["deployments", true],
  "apps/StatefulSet": ["statefulsets", true],
  "apps/DaemonSet": ["daemonsets", true],
  "batch/Job": ["jobs", true],
  "batch/CronJob": ["cronjobs", true],
  "rbac.authorization.k8s.io/Role": ["roles", true],
  "rbac.authorization.k8s.io/RoleBinding": ["rolebindings", true],
  "rbac.authorization.k8s.io/ClusterRole": ["clusterroles", false],
  "rbac.authorization.k8s.io/ClusterRoleBinding": ["clusterrolebindings", false],
  "networking.k8s.io/Ingress": ["ingresses", true],
  "networking.k8s.io/NetworkPolicy": ["networkpolicies", true],
  "policy/PodDisruptionBudget": ["poddisruptionbudgets", true],
  "autoscaling/HorizontalPodAutoscaler": ["horizontalpodautoscalers", true],
  "gateway.networking.k8s.io/Gateway": ["gateways", true],
  "gateway.networking.k8s.io/HTTPRoute": ["httproutes", true],
  "gateway.networking.k8s.io/GRPCRoute": ["grpcroutes", true],
  "gateway.networking.k8s.io/ReferenceGrant": ["referencegrants", true],
  "gateway.networking.k8s.io/GatewayClass": ["gatewayclasses", false],
  "cert-manager.io/Certificate": ["certificates", true],
  "cert-manager.io/Issuer": ["issuers", true],
  "cert-manager.io/ClusterIssuer": ["clusterissuers", false],
};

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");

/** Where one kind is served. */
export interface KindInfo {
  plural: string;
  namespaced: boolean;
}

/** The API path of an object. */
export function objectPath(o: ChartObject, kind: KindInfo): string {
  const base = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const scope = kind.namespaced ? `/namespaces/${encodeURIComponent(o.namespace ?? "default")}` : "";
  return `${base}${scope}/${kind.plural}/${encodeURIComponent(o.name)}`;
}

/**
 * The objects of a rendered manifest (Helm keeps hooks apart, so none are here). A namespaced
 * object without a namespace is in the release's, as Helm installs it. A kind not in the table
 * above is taken as namespaced here; the cluster reads correct that from discovery.
 */
export function manifestObjects(manifest: string, releaseNamespace: string): ChartObject[] {
  const docs = loadAll(manifest, null, { schema: CORE_SCHEMA });
  const objects: ChartObject[] = [];
  const add = (doc: unknown) => {
    if (doc === null || typeof doc !== "object") return;
    const o = doc as {
      apiVersion?: unknown;
      kind?: unknown;
      metadata?: { name?: unknown; namespace?: unknown };
      items?: unknown;
    };
    if (typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items)) {
      o.items.forEach(add);
      return;
    }
    if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string") return;
    const known = KNOWN_KINDS[`${groupOf(o.apiVersion)}/${o.kind}`];
    const namespaced = known ? known[1] : true;
    objects.push({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      namespace: namespaced
        ? typeof o.metadata.namespace === "string"
          ? o.metadata.namespace
          : releaseNamespace
        : undefined,
      object: doc as Record<string, unknown>,
    });
  };
  docs.forEach(add);
  return objects;
}

/** The cluster calls of this check; tests replace them so that no cluster is needed. */
export const chartObjects = {
  /** The objects of `objects` the cluster does not have. */
  missing: readMissingObjects,
};

/** Plural and scope of each kind the objects have: the table above, else the API server's discovery. */
async function kindsOf(objects: ChartObject[], get: ClusterGet): Promise<Map<string, KindInfo | undefined>> {
  const kinds = new Map<string, KindInfo | undefined>();
  const unknown = new Set<string>();
  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}`;
    const known = KNOWN_KINDS[`${groupOf(o.apiVersion)}/${o.kind}`];
    if (known) kinds.set(key, { plural: known[0], namespaced: known[1] });
    else unknown.add(o.apiVersion);
  }
  await Promise.all(
    [...unknown].map(async (apiVersion) => {
      // Not served (404): its objects cannot exist.
      const list = (await get(apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`)) as
        { resources?: { name?: string; kind?: string; namespaced?: boolean }[] } | undefined;
      for (const r of list?.resources ?? []) {
        if (r.name && r.kind && !r.name.includes("/")) {
          kinds.set(`${apiVersion}/${r.kind}`, { plural: r.name, namespaced: r.namespaced === true });
        }
      }
    }),
  );
  return kinds;
}

/** GETs each object's metadata, all at once; a kind the API server does not serve counts as missing. */
export async function readMissingObjects(selection: ClusterSelection, objects: ChartObject[]): Promise<ChartObject[]> {
  const get = await clusterGet(selection);
  const kinds = await kindsOf(objects, get);
  const missing = await Promise.all(
    objects.map(async (o): Promise<ChartObject | undefined> => {
      const kind = kinds.get(`${o.apiVersion}/${o.kind}`);
      if (kind === undefined) return o;
      // Discovery may say a kind taken as namespaced is cluster-scoped.
      const placed = kind.namespaced ? o : { ...o, namespace: undefined };
      return (await get(objectPath(placed, kind), PARTIAL_OBJECT)) === undefined ? placed : undefined;
    }),
  );
  return missing.filter((o): o is ChartObject => o !== undefined);
}

/**
 * Can the bundled Qdrant get its volume?
 *
 * The chart's Qdrant is a StatefulSet whose claim (10Gi, ReadWriteOnce) names no StorageClass, so
 * it binds only through the cluster's default StorageClass or, without one, to an Available
 * PersistentVolume that has no class. When neither exists the pod stays Pending and `helm install
 * --wait` gives up after its 10-minute timeout with "context deadline exceeded", which says
 * nothing about storage. This check reads the cluster's StorageClasses and PersistentVolumes
 * before the release is registered and stops the program within seconds, naming the fix.
 *
 * `judgeQdrantStorage` is the pure decision. Reading the cluster uses @kubernetes/client-node,
 * loaded only when the bundled Qdrant is on (loading it takes about a second), through the same
 * `kubernetes:kubeconfig`/`context`/`cluster` settings the program's Kubernetes provider uses.
 * If the cluster cannot be read the program warns and carries on: the check must never be the
 * reason a deployment fails.
 */
import * as pulumi from "@pulumi/pulumi";

import { QDRANT_CLAIM, qdrantClaimName } from "../components/chart-contract";
import { AppConfig, CONFIG_NAMESPACE } from "../stacks/config";
import { userError } from "../stacks/errors";
import { ClusterSelection, clusterSelection, loadClientLibrary, loadKubeConfig, withTimeout } from "./client";

export interface StorageClassInfo {
  name: string;
  isDefault: boolean;
  provisioner: string;
}

export interface VolumeInfo {
  name: string;
  phase: string;
  /** "" for a volume without a class. */
  storageClassName: string;
  capacityBytes: number;
  accessModes: string[];
  /** `namespace/name` of the claim the volume is reserved for, if any. */
  claimRef?: string;
}

export interface ClusterStorage {
  classes: StorageClassInfo[];
  volumes: VolumeInfo[];
  /** Phase of the Qdrant claim when it exists already (a running stack), e.g. "Bound". */
  claimPhase?: string;
}

export type StorageVerdict = { ok: true; reason: string } | { ok: false; problem: string; fix: string };

/** A StorageClass whose volumes are created by hand: only pre-created volumes of it can bind. */
const NO_PROVISIONER = "kubernetes.io/no-provisioner";

/** Whether the bundled Qdrant's claim `namespace/claimName` can bind on a cluster with this storage. */
export function judgeQdrantStorage(storage: ClusterStorage, namespace: string, claimName: string): StorageVerdict {
  if (storage.claimPhase === "Bound") return { ok: true, reason: `claim ${claimName} is already bound` };

  const fits = (v: VolumeInfo, storageClassName: string) =>
    v.phase === "Available" &&
    v.storageClassName === storageClassName &&
    v.capacityBytes >= QDRANT_CLAIM.sizeBytes &&
    v.accessModes.includes(QDRANT_CLAIM.accessMode) &&
    (v.claimRef === undefined || v.claimRef === `${namespace}/${claimName}`);
  const wanted = `Available PersistentVolume of at least ${QDRANT_CLAIM.size} (${QDRANT_CLAIM.accessMode})`;
  const useExternal = `or use an external Qdrant instead: pulumi config set ${CONFIG_NAMESPACE}:qdrantUrl http://qdrant.qdrant.svc:6333`;

  const defaults = storage.classes.filter((c) => c.isDefault);
  if (defaults.length > 0) {
    const dynamic = defaults.find((c) => c.provisioner !== NO_PROVISIONER);
    if (dynamic) return { ok: true, reason: `default StorageClass ${dynamic.name} provisions volumes` };
    const volume = storage.volumes.find((v) => defaults.some((c) => fits(v, c.name)));
    if (volume) return { ok: true, reason: `PersistentVolume ${volume.name} of the default StorageClass is Available` };
    const names = defaults.map((c) => c.name).join(", ");
    return {
      ok: false,
      problem: `the default StorageClass ${names} has no provisioner (${NO_PROVISIONER}) and there is no ${wanted} of that class`,
      fix: `create such a PersistentVolume with storageClassName ${defaults[0].name}, ${useExternal}`,
    };
  }

  const volume = storage.volumes.find((v) => fits(v, ""));
  if (volume) return { ok: true, reason: `PersistentVolume ${volume.name} without a class is Available` };
  const others = storage.classes.map((c) => c.name);
  return {
    ok: false,
    problem: `the cluster has no default StorageClass${others.length > 0 ? ` (it has ${others.join(", ")}, none marked default)` : ""} and no ${wanted} without a class`,
    fix: `mark a StorageClass as the default (kubectl patch storageclass ${others[0] ?? "<name>"} -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'), ${useExternal}`,
  };
}

/** The cluster the program's Kubernetes provider talks to (see kubernetes-provider.ts). */

/** How the cluster is read; tests replace `read` so that no cluster is needed. */
export const clusterStorage = {
  read: readClusterStorage,
  /** How long reading may take before the check is skipped. */
  timeoutMs: 10_000,
};

/**
 * Stops the program when the bundled Qdrant cannot get a volume; does nothing for an external
 * Qdrant. Runs on preview as well as on update, so `pulumi preview` already says it.
 */
export async function checkQdrantStorage(app: AppConfig): Promise<void> {
  if (app.qdrantUrl !== undefined) return;
  const claimName = qdrantClaimName(app.releaseName);
  let storage: ClusterStorage;
  try {
    storage = await withTimeout(
      clusterStorage.read(clusterSelection(), app.namespace, claimName),
      clusterStorage.timeoutMs,
    );
  } catch (error) {
    await pulumi.log.warn(
      `Could not read the cluster's StorageClasses and PersistentVolumes (${(error as Error).message}); skipping the storage check. If the bundled Qdrant's claim ${claimName} cannot bind, Helm waits up to 10 minutes.`,
    );
    return;
  }
  const verdict = judgeQdrantStorage(storage, app.namespace, claimName);
  if (!verdict.ok) {
    throw userError(
      `The bundled Qdrant would never start: its claim ${claimName} (${QDRANT_CLAIM.size}, ${QDRANT_CLAIM.accessMode}, default StorageClass) cannot bind because ${verdict.problem}. Helm would wait 10 minutes and fail with "context deadline exceeded"; nothing was deployed.\n  Fix: ${verdict.fix}`,
    );
  }
}

/** Reads the cluster's storage with @kubernetes/client-node, loaded on first use. */
export async function readClusterStorage(
  selection: ClusterSelection,
  namespace: string,
  claimName: string,
): Promise<ClusterStorage> {
  const k8s = await loadClientLibrary();
  const kc = loadKubeConfig(k8s, selection);

  const storageApi = kc.makeApiClient(k8s.StorageV1Api);
  const coreApi = kc.makeApiClient(k8s.CoreV1Api);
  const [classes, volumes, claimPhase] = await Promise.all([
    storageApi.listStorageClass(),
    coreApi.listPersistentVolume(),
    coreApi
      .readNamespacedPersistentVolumeClaim({ name: claimName, namespace })
      .then((claim) => claim.status?.phase)
      .catch((error: unknown) => {
        if (error instanceof k8s.ApiException && error.code === 404) return undefined;
        throw error;
      }),
  ]);
  const isDefault = (annotations: Record<string, string> | undefined) =>
    annotations?.["storageclass.kubernetes.io/is-default-class"] === "true" ||
    annotations?.["storageclass.beta.kubernetes.io/is-default-class"] === "true";
  return {
    classes: classes.items.map((c) => ({
      name: c.metadata?.name ?? "",
      isDefault: isDefault(c.metadata?.annotations),
      provisioner: c.provisioner,
    })),
    volumes: volumes.items.map((v) => ({
      name: v.metadata?.name ?? "",
      phase: v.status?.phase ?? "",
      storageClassName: v.spec?.storageClassName ?? "",
      capacityBytes: quantityBytes(v.spec?.capacity?.storage),
      accessModes: v.spec?.accessModes ?? [],
      claimRef: v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : undefined,
    })),
    claimPhase,
  };
}

const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
};

/** Bytes of a Kubernetes storage quantity such as "10Gi" or "20G"; 0 when it cannot be read. */
export function quantityBytes(quantity: string | undefined): number {
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(quantity ?? "");
  if (!m || !(m[2] in UNITS)) return 0;
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Is a Helm operation on the dot-ai release left half-done?
 *
 * A `pulumi up` killed while Helm installs or upgrades the release, or an API server lost in the
 * middle, leaves the release's newest revision `pending-install`, `pending-upgrade` or
 * `pending-rollback`. Helm then refuses every later operation on it with "another operation
 * (install/upgrade/rollback) is in progress", which names neither the revision nor a way out
 * (seen in test/e2e/faults.e2e.ts, docs/faults.md). This check reads the release's revision
 * Secrets (Helm's default storage, labels `owner=helm,name=<release>`) before anything is
 * registered and stops with the fix.
 *
 * It does not delete the revision itself: a pending revision may belong to a `helm` command that
 * someone is running at this very moment, which only a person can know (Pulumi's stack lock covers
 * Pulumi runs, not helm). If the cluster cannot be read the program warns and carries on.
 *
 * At the same time it checks that the release's name is free cluster-wide: every chart version
 * names its ClusterRole and ClusterRoleBinding after the release, so a second release of the same
 * name in another namespace (two teams leaving `releaseName` at its default) makes Helm refuse
 * ("invalid ownership metadata"), but only once the stack has created its namespace and Secret.
 */
import * as pulumi from "@pulumi/pulumi";

import { chartFullname } from "../components/chart-contract";
import { HELM_OWNER } from "../components/crds";
import { SECRETS_REVISION_ENV } from "../components/chart-values";
import { AppConfig } from "../stacks/config";
import { setCommand } from "../stacks/config/reader";
import { allChecks, userError } from "../stacks/errors";
import {
  ChartObject,
  ReleaseRecord,
  chartObjects,
  describeObject,
  manifestObjects,
  releaseRecord,
} from "./chart-objects";
import { ClusterSelection, PARTIAL_LIST, PARTIAL_OBJECT, clusterGet, clusterSelection, withTimeout } from "./client";

/** One revision of a Helm release, as its storage Secret's labels record it. */
export interface HelmRevision {
  version: number;
  status: string;
  /** The rendered objects (Helm's `manifest`), read for the deployed revision only. */
  manifest?: string;
  /** The revision's description (Helm's `info.description`), read with the manifest. */
  description?: string;
  /** The values and chart of the deployed revision, read with the manifest. */
  values?: ReleaseRecord["values"];
  chart?: ReleaseRecord["chart"];
}
/** Which release: the app's namespace and release name. */
export type ReleaseName = Pick<AppConfig, "namespace" | "releaseName">;

/** Helm's statuses of a revision whose operation is under way (or was interrupted). */
export const PENDING_STATUSES = ["pending-install", "pending-upgrade", "pending-rollback"];

/** Helm's name for the Secret that stores one revision of a release. */
export function revisionSecretName(release: string, version: number): string {
  return `sh.helm.release.v1.${release}.v${version}`;
}

/**
 * The newest revision when it is pending (Helm refuses to touch the release then), else undefined.
 * An older pending revision with a newer one after it blocks nothing.
 */
export function stuckRevision(revisions: HelmRevision[]): HelmRevision | undefined {
  const newest = revisions.reduce<HelmRevision | undefined>(
    (a, b) => (a === undefined || b.version > a.version ? b : a),
    undefined,
  );
  return newest && PENDING_STATUSES.includes(newest.status) ? newest : undefined;
}

/** How the revisions are read; tests replace `read` so that no cluster is needed. */
export const helmRevisions = {
  read: readHelmRevisions,
  /** How long reading may take before the check is skipped. */
  timeoutMs: 10_000,
};

/** What the check found: how the release is to be registered. */
export interface ReleaseFacts {
  /** The `description` the release is to be given (see `releaseDescription`). */
  description?: string;
  /**
   * Register the release with `import`: it exists in the cluster (deployed), installed by this
   * program (a first `up` killed after Helm's install, whose state kept only a pending create) or
   * named by `migrateFrom`. The engine ignores the import when the stack's state already holds it.
   */
  adopt: boolean;
  /** The deployed revision (its values and chart), when there is one. */
  deployed?: HelmRevision;
}

/**
 * Stops the program when the release's name is taken by another namespace's release, when its
 * newest revision is pending, or when a release of that name was installed outside this program
 * and the stack does not say to take it over (`migrateFrom`), naming the fix each time; otherwise,
 * when the newest revision is deployed, checks that its objects exist (see cluster/chart-objects.ts).
 */
export async function checkHelmRelease(app: ReleaseName & { adopting?: boolean }): Promise<ReleaseFacts> {
  const selection = clusterSelection();
  const [revisions] = await allChecks([notStuck(app, selection), checkReleaseNameFree(app, selection)]);
  if (revisions === undefined) return { adopt: false };
  const deployed = deployedRevision(revisions);
  if (deployed && !app.adopting && !installedByThisProgram(deployed.values)) {
    const chart = deployed.chart ? `${deployed.chart.name} ${deployed.chart.version}` : "an unknown chart";
    throw userError(
      `Helm release ${app.releaseName} in namespace ${app.namespace} already exists (revision ${deployed.version}, chart ${chart}) and was not installed by this program; installing over it would fail with "cannot re-use a name that is still in use". Nothing was deployed.\n` +
        `  Fix: to take that release over (keeping its token, data and Ingress while you move to Gateway API, docs/migration.md):\n` +
        `    ${setCommand("migrateFrom", `${app.namespace}/${app.releaseName}`)}\n` +
        `  or give this stack another release: ${setCommand("releaseName", `dot-ai-${pulumi.getStack()}`)}`,
    );
  }
  return {
    description: await releaseDescription(app, selection, revisions),
    adopt: deployed !== undefined,
    ...(deployed ? { deployed } : {}),
  };
}

/**
 * Whether a release's values are this program's: every version of it has passed the Secret's
 * digest in `extraEnv` (SECRETS_REVISION_ENV), which no chart default and no quick start sets.
 */
export function installedByThisProgram(values: Record<string, unknown> | undefined): boolean {
  const env = values?.extraEnv;
  return Array.isArray(env) && env.some((e) => (e as { name?: unknown } | null)?.name === SECRETS_REVISION_ENV);
}

/** How a description of this program's starts, so that it is told from Helm's own ("Upgrade complete"). */
export const REPAIR_DESCRIPTION_PREFIX = "dot-ai-gateway: ";

/** The description that makes the release upgrade, so that Helm creates `missing` again. */
export function repairDescription(missing: readonly ChartObject[], revision: number): string {
  return `${REPAIR_DESCRIPTION_PREFIX}re-creates ${missing.map(describeObject).join(", ")}, missing from revision ${revision}`;
}

/** The release's revisions once none is left pending (undefined when they cannot be read). */
async function notStuck(app: ReleaseName, selection: ClusterSelection): Promise<HelmRevision[] | undefined> {
  const revisions = await readRevisions(app, selection);
  const stuck = revisions && stuckRevision(revisions);
  if (stuck === undefined) return revisions;
  const secret = revisionSecretName(app.releaseName, stuck.version);
  throw userError(
    `The Helm release ${app.releaseName} in namespace ${app.namespace} is stuck: its newest revision (${stuck.version}) is ${stuck.status}, ` +
      `left by an interrupted install or upgrade (a killed pulumi up, a lost API server). Helm refuses every operation on it until then ("another operation (install/upgrade/rollback) is in progress"); nothing was deployed.\n` +
      `  Fix: make sure no helm command is running on this release, then delete that revision and run pulumi up again (the token is kept):\n` +
      `    kubectl delete secret ${secret} -n ${app.namespace}\n` +
      `  If the stack is locked by the interrupted run, first: pulumi cancel`,
  );
}

/** The release's revisions, or undefined (with a warning) when the cluster cannot be read. */
async function readRevisions(app: ReleaseName, selection: ClusterSelection): Promise<HelmRevision[] | undefined> {
  try {
    return await withTimeout(helmRevisions.read(selection, app.namespace, app.releaseName), helmRevisions.timeoutMs);
  } catch (error) {
    await pulumi.log.warn(
      `Could not read the Helm revisions of release ${app.releaseName} (${(error as Error).message}); skipping the check for a half-done Helm operation.`,
    );
    return undefined;
  }
}

/** Which Helm release owns a cluster-scoped object (Helm's ownership annotations); absent: none does. */
export interface HelmOwner {
  release?: string;
  namespace?: string;
}

/** How the ClusterRole named after the release is read; tests replace `read` so that no cluster is needed. */
export const releaseClusterRole = {
  /** undefined: no such ClusterRole. */
  read: readClusterRoleOwner,
  timeoutMs: 10_000,
};

/**
 * Stops the program when the ClusterRole the chart names after this release exists and is not this
 * release's (Helm would refuse to install or upgrade over it), naming the owner and the fix.
 */
async function checkReleaseNameFree(app: ReleaseName, selection: ClusterSelection): Promise<void> {
  const name = chartFullname(app.releaseName);
  let owner: HelmOwner | undefined;
  try {
    owner = await withTimeout(releaseClusterRole.read(selection, name), releaseClusterRole.timeoutMs);
  } catch (error) {
    await pulumi.log.warn(
      `Could not read ClusterRole ${name} (${(error as Error).message}); skipping the check that release name ${app.releaseName} is free in the cluster.`,
    );
    return;
  }
  if (owner === undefined || (owner.release === app.releaseName && owner.namespace === app.namespace)) return;
  const whose =
    owner.release !== undefined
      ? `belongs to Helm release ${owner.release} in namespace ${owner.namespace ?? "(none)"}`
      : "exists and belongs to no Helm release";
  throw userError(
    `ClusterRole ${name} ${whose}. The dot-ai chart names its ClusterRole and ClusterRoleBinding after the release, cluster-wide, so release ${app.releaseName} in namespace ${app.namespace} cannot be installed next to it (Helm would refuse with "invalid ownership metadata"); nothing was deployed.\n` +
      `  Fix: give this stack's release a name no other namespace uses, e.g.: pulumi config set dot-ai-gateway:releaseName dot-ai-${pulumi.getStack()}`,
  );
}

/** The Helm owner of ClusterRole `name`, or undefined when there is none of that name. */
export async function readClusterRoleOwner(selection: ClusterSelection, name: string): Promise<HelmOwner | undefined> {
  const get = await clusterGet(selection);
  const role = (await get(
    `/apis/rbac.authorization.k8s.io/v1/clusterroles/${encodeURIComponent(name)}`,
    PARTIAL_OBJECT,
  )) as { metadata?: { annotations?: Record<string, string> } } | undefined;
  return role === undefined ? undefined : helmOwnerOf(role.metadata?.annotations);
}

/** The Helm release an object's annotations name (either part absent when they do not say). */
export function helmOwnerOf(annotations: Record<string, string> | undefined): HelmOwner {
  return { release: annotations?.[HELM_OWNER.releaseName], namespace: annotations?.[HELM_OWNER.releaseNamespace] };
}

/** The newest revision when it is the deployed one (not after a failed upgrade), with its manifest. */
export function deployedRevision(revisions: HelmRevision[]): HelmRevision | undefined {
  const newest = revisions.reduce<HelmRevision | undefined>(
    (a, b) => (a === undefined || b.version > a.version ? b : a),
    undefined,
  );
  return newest?.status === "deployed" && newest.manifest !== undefined ? newest : undefined;
}

/**
 * The release's `description`: when objects of the deployed revision were deleted by hand, a new
 * one naming them, so that `preview` shows an update of the release and `up` upgrades it (Helm
 * creates every object of the release that does not exist); otherwise the deployed revision's own,
 * when this program set it, so that an earlier repair stays a no-change. Program code writes
 * nothing to the cluster. Undefined: Helm's default.
 */
async function releaseDescription(
  app: ReleaseName,
  selection: ClusterSelection,
  revisions: HelmRevision[],
): Promise<string | undefined> {
  const deployed = deployedRevision(revisions);
  if (deployed?.manifest === undefined) return undefined;
  const kept = deployed.description?.startsWith(REPAIR_DESCRIPTION_PREFIX) ? deployed.description : undefined;
  const release = `Helm release ${app.releaseName} (namespace ${app.namespace}, revision ${deployed.version})`;
  let missing: ChartObject[];
  try {
    const objects = manifestObjects(deployed.manifest, app.namespace);
    missing = await withTimeout(chartObjects.missing(selection, objects), helmRevisions.timeoutMs);
  } catch (error) {
    await pulumi.log.warn(
      `Could not check that the objects of the ${release} exist (${(error as Error).message}); skipping that check.`,
    );
    return kept;
  }
  if (missing.length === 0) return kept;
  await pulumi.log.warn(
    `${missing.length} object(s) of the ${release} are missing from the cluster: ${missing.map(describeObject).join(", ")} ` +
      `(deleted by hand? The release resource tracks its revision, not its objects). ` +
      `${pulumi.runtime.isDryRun() ? "pulumi up upgrades" : "Upgrading"} the release with a new description, and Helm creates them again from the chart.`,
  );
  return repairDescription(missing, deployed.version);
}

/**
 * Reads the release's revisions from the labels of Helm's storage Secrets (metadata only), and at
 * the same time the deployed revision's record, for its manifest: two small reads in parallel.
 */
export async function readHelmRevisions(
  selection: ClusterSelection,
  namespace: string,
  release: string,
): Promise<HelmRevision[]> {
  const get = await clusterGet(selection);
  const list = async (selector: string, accept?: string): Promise<SecretList> =>
    ((await get(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets?labelSelector=${encodeURIComponent(selector)}`,
      accept,
    )) as SecretList | undefined) ?? { items: [] };
  const selector = `owner=helm,name=${release}`;
  const [all, deployed] = await Promise.all([list(selector, PARTIAL_LIST), list(`${selector},status=deployed`)]);
  const records = new Map<number, ReleaseRecord>();
  for (const s of deployed.items ?? []) {
    const data = s.data?.release;
    if (data === undefined) continue;
    records.set(Number(s.metadata?.labels?.version ?? 0), releaseRecord(Buffer.from(data, "base64").toString()));
  }
  // An empty list's items are null in a PartialObjectMetadataList (a first install, a new namespace).
  return (all.items ?? []).map((s) => {
    const version = Number(s.metadata?.labels?.version ?? 0);
    return { version, status: s.metadata?.labels?.status ?? "", ...records.get(version) };
  });
}

interface SecretList {
  items: null | { metadata?: { labels?: Record<string, string> }; data?: Record<string, string> }[];
}

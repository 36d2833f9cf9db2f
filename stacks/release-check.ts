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
 */
import * as pulumi from "@pulumi/pulumi";

import { AppConfig } from "./config";
import { userError } from "./errors";
import { ClusterSelection, clusterSelection, loadKubeConfig, withTimeout } from "./kube-client";

/** One revision of a Helm release, as its storage Secret's labels record it. */
export interface HelmRevision {
  version: number;
  status: string;
}

const PENDING = ["pending-install", "pending-upgrade", "pending-rollback"];

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
  return newest && PENDING.includes(newest.status) ? newest : undefined;
}

/** How the revisions are read; tests replace `read` so that no cluster is needed. */
export const helmRevisions = {
  read: readHelmRevisions,
  /** How long reading may take before the check is skipped. */
  timeoutMs: 10_000,
};

/** Stops the program when the release's newest revision is pending, naming the fix. */
export async function checkHelmRelease(app: AppConfig): Promise<void> {
  let revisions: HelmRevision[];
  try {
    revisions = await withTimeout(
      helmRevisions.read(clusterSelection(), app.namespace, app.releaseName),
      helmRevisions.timeoutMs,
    );
  } catch (error) {
    await pulumi.log.warn(
      `Could not read the Helm revisions of release ${app.releaseName} (${(error as Error).message}); skipping the check for a half-done Helm operation.`,
    );
    return;
  }
  const stuck = stuckRevision(revisions);
  if (stuck === undefined) return;
  const secret = revisionSecretName(app.releaseName, stuck.version);
  throw userError(
    `The Helm release ${app.releaseName} in namespace ${app.namespace} is stuck: its newest revision (${stuck.version}) is ${stuck.status}, ` +
      `left by an interrupted install or upgrade (a killed pulumi up, a lost API server). Helm refuses every operation on it until then ("another operation (install/upgrade/rollback) is in progress"); nothing was deployed.\n` +
      `  Fix: make sure no helm command is running on this release, then delete that revision and run pulumi up again (the token is kept):\n` +
      `    kubectl delete secret ${secret} -n ${app.namespace}\n` +
      `  If the stack is locked by the interrupted run, first: pulumi cancel`,
  );
}

/** Reads the release's revisions from the labels of Helm's storage Secrets. */
export async function readHelmRevisions(
  selection: ClusterSelection,
  namespace: string,
  release: string,
): Promise<HelmRevision[]> {
  const k8s = await import("@kubernetes/client-node");
  const core = loadKubeConfig(k8s, selection).makeApiClient(k8s.CoreV1Api);
  // Only pending revisions first: nearly always none, so the release payloads are not fetched.
  const selector = `owner=helm,name=${release}`;
  const pending = await core.listNamespacedSecret({
    namespace,
    labelSelector: `${selector},status in (${PENDING.join(",")})`,
  });
  if (pending.items.length === 0) return [];
  const all = await core.listNamespacedSecret({ namespace, labelSelector: selector });
  return all.items.map((s) => ({
    version: Number(s.metadata?.labels?.version ?? 0),
    status: s.metadata?.labels?.status ?? "",
  }));
}

/**
 * Can this stack take over the release `migrateFrom` names, and what does it keep of it?
 *
 * Read before anything is registered (docs/migration.md): the release's deployed revision (chart,
 * values) comes from the Helm release check (cluster/release-check.ts), the token and keys from the
 * Secret the release's pods read. Every reason to refuse is reported at once, each with its fix.
 * Only GETs: the adoption itself is an `import` of the release, which `preview` shows.
 */
import * as semver from "semver";

import { unmanagedValues } from "../components/chart-values";
import { secretPaths } from "../components/secret-values";
import {
  AUTH_KEY_NAME,
  ApiKeyProvider,
  MIN_CHART_VERSION,
  isBelowFloor,
  SECRETS_NAME,
  SECRET_ENTRIES,
  secretEntriesOf,
} from "../components/chart-contract";
import { Migration } from "../stacks/config";
import { setCommand } from "../stacks/config/reader";
import { userError } from "../stacks/errors";
import { ClusterSelection, clusterGet, clusterSelection, withTimeout } from "./client";
import { HelmRevision } from "./release-check";

/** What the stack keeps of an adopted release. */
export interface AdoptedRelease {
  /** The auth token the release serves: clients keep working. */
  token: string;
  /**
   * The release's `ingress` values (without `enabled`), to keep its Ingress as it is while both
   * paths serve, and to restore it on a rollback.
   */
  ingress: Record<string, unknown>;
  /** The release's values; those for keys this program does not set are kept (see `unmanagedValues`). */
  values: Record<string, unknown>;
}

/** What the stack says about itself that the adopted release must agree with. */
export interface MigrationTarget {
  migration: Migration;
  hostname: string;
  /** The stack serves the hostname over HTTPS. */
  https: boolean;
  /** The API keys the stack's config holds. */
  apiKeyProviders: readonly ApiKeyProvider[];
  /** The chart version the stack moves the release to. */
  chartVersion: string;
}

/** The chart's default host for its Ingress (every version since 0.170.0). */
const CHART_DEFAULT_INGRESS_HOST = "dot-ai.127.0.0.1.nip.io";

/** How the release's Secret is read; tests replace `read` so that no cluster is needed. */
export const releaseSecret = {
  read: readSecretData,
  timeoutMs: 10_000,
};

/**
 * Checks the release `deployed` (its newest, deployed revision; undefined when there is none) for
 * adoption and returns what is kept of it, or stops the program naming every problem and its fix.
 */
export async function checkMigration(
  target: MigrationTarget,
  deployed: HelmRevision | undefined,
): Promise<AdoptedRelease> {
  const { namespace, releaseName } = target.migration;
  const release = `Helm release ${releaseName} in namespace ${namespace}`;
  const refuse = (problems: string[]): never => {
    const list = problems.map((p, i) => `  ${i + 1}. ${p}`).join("\n");
    throw userError(`dot-ai-gateway:migrateFrom: ${release} cannot be taken over; nothing was deployed:\n${list}`);
  };
  if (deployed === undefined) {
    refuse([
      `It has no deployed revision (\`helm list -n ${namespace}\` shows what is there; a failed upgrade is undone with \`helm rollback ${releaseName} -n ${namespace}\`).\n     Fix: ${setCommand("migrateFrom", "<namespace>/<release>")} naming a deployed dot-ai release`,
    ]);
  }
  const { values = {}, chart } = deployed as HelmRevision;
  const problems: string[] = [];
  if (chart?.name !== "dot-ai") {
    problems.push(
      `Its chart is ${chart ? `'${chart.name}' ${chart.version}` : "unknown"}, not dot-ai.\n     Fix: ${setCommand("migrateFrom", "<namespace>/<release>")} naming the dot-ai release (\`helm list -A\`)`,
    );
  } else if (!semver.valid(chart.version) || isBelowFloor(chart.version)) {
    problems.push(
      `Its chart is dot-ai ${chart.version}, older than ${MIN_CHART_VERSION}, the oldest whose values this program knows (older charts have no Gateway API support to move to).\n     Fix: upgrade it in place first, keeping its values, then run pulumi up again:\n       helm upgrade ${releaseName} oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai --version ${MIN_CHART_VERSION} -n ${namespace} --reuse-values`,
    );
  }
  const ingress = record(values.ingress);
  const host = typeof ingress.host === "string" ? ingress.host : CHART_DEFAULT_INGRESS_HOST;
  if (ingress.enabled === true && host !== target.hostname) {
    problems.push(
      `Its Ingress serves host ${host}, but this stack's hostname is ${target.hostname}: the bridge route and then the chart's route would serve another host than the one clients use.\n     Fix: ${setCommand("hostname", host)}`,
    );
  }
  const credentials = secretPaths(unmanagedValues(values), false);
  if (credentials.length > 0) {
    problems.push(
      `Its values hold credentials at ${credentials.join(", ")}. The program keeps the values it does not set itself, so they would sit in plaintext in the stack's state (and already sit in Helm's record).\n     Fix: move them into a Secret the chart references (e.g. dex.configSecret, dex.envFrom), with helm upgrade ${releaseName} -n ${namespace} --reuse-values --set <key>=null, then run pulumi up again`,
    );
  }
  if (record(values.dex).enabled === true && !target.https) {
    problems.push(
      `It runs OAuth (dex.enabled), which needs HTTPS, but this stack serves ${target.hostname} on plain HTTP only.\n     Fix: serve HTTPS (pulumi config rm dot-ai-gateway:https; with the domain's certificate), or turn OAuth off first: helm upgrade ${releaseName} -n ${namespace} --reuse-values --set dex.enabled=false`,
    );
  }

  const secrets = record(values.secrets);
  const secretName = typeof secrets.name === "string" && secrets.name !== "" ? secrets.name : SECRETS_NAME;
  const keyName = (entry: Record<string, unknown>, fallback: string): string =>
    typeof entry.keyName === "string" && entry.keyName !== "" ? entry.keyName : fallback;
  let data: Record<string, string> | null | undefined;
  try {
    data = await withTimeout(releaseSecret.read(clusterSelection(), namespace, secretName), releaseSecret.timeoutMs);
  } catch (error) {
    problems.push(
      `Its Secret ${namespace}/${secretName} could not be read (${(error as Error).message}).\n     Fix: run pulumi up with credentials that may read Secrets in namespace ${namespace}`,
    );
  }
  const authKey = keyName(record(secrets.auth), AUTH_KEY_NAME);
  const token = data?.[authKey];
  if (data !== undefined && !token) {
    problems.push(
      `Its Secret ${namespace}/${secretName} ${data === null ? "does not exist" : `has no '${authKey}'`}: the release serves no auth token to keep.\n     Fix: give it one first, e.g. helm upgrade ${releaseName} -n ${namespace} --reuse-values --set secrets.auth.token="$(openssl rand -hex 24)"`,
    );
  }
  for (const entry of secretEntriesOf(target.chartVersion)) {
    const key = keyName(record(secrets[entry]), SECRET_ENTRIES[entry].keyName);
    if (!data?.[key] || target.apiKeyProviders.includes(entry)) continue;
    problems.push(
      `Its Secret holds '${key}', which this stack's config does not: the program writes the Secret from its config, so the key would be dropped.\n     Fix: ${setCommand(SECRET_ENTRIES[entry].configKey, `"$(kubectl get secret ${secretName} -n ${namespace} -o jsonpath='{.data.${key}}' | base64 -d)"`, true)}`,
    );
  }
  if (problems.length > 0) refuse(problems);

  // Once adopted, the release's values are this program's: the Ingress they hold is the one kept
  // at adoption (the phases flip only `enabled`).
  const ingressKept = Object.fromEntries(Object.entries(ingress).filter(([k]) => k !== "enabled"));
  return { token: token as string, ingress: ingressKept, values };
}

/** A values map at `value`, or an empty one. */
function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A Secret's data, decoded; null when there is no such Secret. */
export async function readSecretData(
  selection: ClusterSelection,
  namespace: string,
  name: string,
): Promise<Record<string, string> | null> {
  const get = await clusterGet(selection);
  const secret = (await get(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
  )) as { data?: Record<string, string> } | undefined;
  if (secret === undefined) return null;
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
}

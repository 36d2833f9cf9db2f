/**
 * `migrateFrom` and `migrationPhase`: a stack that takes over a dot-ai release installed by plain
 * `helm` (the upstream quick start, on Ingress) and moves it to Gateway API without a gap in
 * service (docs/migration.md). What the release itself holds is checked against the cluster before
 * anything is registered (cluster/migration-check.ts); here only what the settings say on their own.
 */
import { ConfigReader, removeCommand, setCommand } from "./reader";
import { MIGRATION_PHASES, Migration, MigrationPhase } from "./types";
import { checkDnsLabel } from "../validators";

/** The release to adopt and the phase, or undefined when the stack adopts nothing. */
export function readMigration(r: ConfigReader): Migration | undefined {
  const from = r.optional("migrateFrom");
  if (from === undefined) {
    if (r.has("migrationPhase")) {
      r.report(
        "migrationPhase",
        "is set, but migrateFrom is not: a migration phase applies only to a stack that adopts a release installed outside it",
        `${removeCommand("migrationPhase")}, or ${setCommand("migrateFrom", "<namespace>/<release>")}`,
      );
    }
    return undefined;
  }
  const phase = r.oneOf<MigrationPhase>("migrationPhase", MIGRATION_PHASES, "both", "both");
  const parts = from.split("/");
  const problem =
    parts.length !== 2
      ? "is not <namespace>/<release>"
      : checkDnsLabel(parts[0])
        ? `names namespace '${parts[0]}', which ${checkDnsLabel(parts[0])}`
        : checkDnsLabel(parts[1])
          ? `names release '${parts[1]}', which ${checkDnsLabel(parts[1])}`
          : undefined;
  if (problem) {
    r.report(
      "migrateFrom",
      `'${from}' ${problem} (the Helm release to take over, as \`helm list -A\` shows it)`,
      setCommand("migrateFrom", "dot-ai/dot-ai"),
    );
    return undefined;
  }
  return { namespace: parts[0], releaseName: parts[1], phase };
}

/**
 * The release is adopted under its own namespace and name (a Helm release cannot be renamed), so
 * `namespace` and `releaseName`, when set, must agree with `migrateFrom`.
 */
export function checkMigrationNames(
  r: ConfigReader,
  migration: Migration,
  app: { namespace: string; releaseName: string },
): void {
  const pairs = [
    ["namespace", app.namespace, migration.namespace],
    ["releaseName", app.releaseName, migration.releaseName],
  ] as const;
  for (const [key, configured, adopted] of pairs) {
    if (!r.has(key) || configured === adopted) continue;
    r.report(
      key,
      `is '${configured}', but migrateFrom names '${adopted}': the adopted release keeps its namespace and name (Helm cannot move or rename a release)`,
      `${removeCommand(key)} (it follows migrateFrom), or ${setCommand(key, adopted)}`,
    );
  }
}

/** Settings that would do nothing on a stack without an app (a platform stack). */
export function refuseMigrationOnPlatform(r: ConfigReader): void {
  r.refuse(
    ["migrateFrom", "migrationPhase"],
    "is set on a platform stack, which deploys no dot-ai; adopt the release from an app stack (role app) or a combined stack",
  );
}

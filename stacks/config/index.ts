/**
 * Stack configuration: read once, validated once, into a typed object.
 *
 * `parseConfig` is pure (plain strings in, typed config or a list of problems out) so that every
 * rule is testable without Pulumi. `loadConfig` feeds it the stack's real configuration, logs the
 * warnings and, if anything is wrong, stops the program with every problem listed before a single
 * resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";

import { ApiKeyProvider } from "../../components/chart-contract";
import { userError } from "../errors";
import { isSecretConfigKey } from "../secret-config";
import { checkHostname } from "../validators";
import { readApp } from "./app";
import { readCrds } from "./crds";
import { readCreatedGateway, readGatewayClassName, readSharedGateway } from "./gateway";
import { readMode } from "./mode";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import {
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  ConfigInput,
  ConfigProblem,
  ConfigResult,
  StackConfig,
  apiKeyConfigKey,
} from "./types";

export * from "./types";

export function parseConfig(input: ConfigInput): ConfigResult {
  const r = new ConfigReader(input);
  reportUnknownKeys(r);
  const mode = readMode(r);
  const hostname = readHostname(r);
  const https = r.bool("https", mode === "reference");
  const crds = readCrds(r);
  const app = readApp(r);
  const className = readGatewayClassName(r, mode);
  const gateway = { hostname, https, appNamespace: app.namespace, releaseName: app.releaseName };
  const common = { stack: input.stack, hostname, https, crds, app };

  let config: StackConfig | undefined;
  if (mode === "reference") config = { ...common, mode, sharedGateway: readSharedGateway(r, className, gateway) };
  if (mode === "creation") config = { ...common, mode, createdGateway: readCreatedGateway(r, className, gateway) };
  if (r.problems.length > 0 || !config) return { ok: false, problems: r.problems, warnings: r.warnings };
  return { ok: true, config, warnings: r.warnings };
}

/** Typos must not silently fall back to defaults. */
function reportUnknownKeys(r: ConfigReader): void {
  for (const key of Object.keys(r.input.values).filter((k) => !(k in CONFIG_KEYS))) {
    const apiKey = /^(.*)ApiKey$/.exec(key);
    r.report(
      key,
      apiKey
        ? `names an API key for '${apiKey[1]}', which this program does not manage`
        : "is not a setting of this program",
      `${removeCommand(key)} (known keys: ${Object.keys(CONFIG_KEYS).join(", ")})`,
    );
  }
}

function readHostname(r: ConfigReader): string {
  const hostname = r.str("hostname", "");
  const problem = r.has("hostname")
    ? checkHostname(hostname)
    : "is not set; it is the public host name clients connect to";
  if (problem) {
    r.report(
      "hostname",
      r.has("hostname") ? `'${hostname}' ${problem}` : problem,
      setCommand("hostname", "dot-ai.example.com"),
    );
  }
  return hostname;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p, i) => `  ${i + 1}. ${CONFIG_NAMESPACE}:${p.key} ${p.problem}.\n     Fix: ${p.fix}`);
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  return `Invalid configuration (${count}); nothing was deployed:\n${lines.join("\n")}`;
}

/** The API keys as secret Outputs; their values never leave Pulumi's secret handling. */
export type ApiKeys = Partial<Record<ApiKeyProvider, pulumi.Output<string>>>;

/** Reads and validates this stack's config, or stops the program listing every problem. */
export function loadConfig(): { config: StackConfig; apiKeys: ApiKeys } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    values[key] = value;
    if (isSecretConfigKey(fullKey)) secretKeys.add(key);
  }
  const result = parseConfig({ stack: pulumi.getStack(), values, secretKeys, baseDir: process.cwd() });
  for (const warning of result.warnings) pulumi.log.warn(warning);
  if (!result.ok) throw userError(formatProblems(result.problems));

  const pulumiConfig = new pulumi.Config(CONFIG_NAMESPACE);
  const apiKeys: ApiKeys = {};
  for (const provider of result.config.app.apiKeyProviders) {
    apiKeys[provider] = pulumiConfig.requireSecret(apiKeyConfigKey(provider));
  }
  return { config: result.config, apiKeys };
}

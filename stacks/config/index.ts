/**
 * Stack configuration: read once, validated once, into a typed object.
 *
 * `parseConfig` is pure (plain strings in, typed config or a list of problems out) so that every
 * rule is testable without Pulumi. `loadConfig` feeds it the stack's real configuration, logs the
 * warnings and, if anything is wrong, stops the program with every problem listed before a single
 * resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";

import { httpsRedirectNamespace } from "../../components/app";
import { ApiKeyProvider } from "../../components/chart-contract";
import { userError } from "../errors";
import { isSecretConfigKey } from "../secret-config";
import { checkDnsLabel, checkHostname, checkLabel, parseStringMap } from "../validators";
import { readApp } from "./app";
import { readCrds } from "./crds";
import { readCreatedGateway, readGatewayClassName, readSharedGateway } from "./gateway";
import { readMode } from "./mode";
import { checkAppAgainstPlatform, readPlatformSource, readPlatformStack } from "./platform";
import { readRole } from "./role";
import { readTransport } from "./transport";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import {
  AppStackConfig,
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  CombinedConfig,
  ConfigInput,
  ConfigProblem,
  ConfigResult,
  StackConfig,
  apiKeyConfigKey,
} from "./types";

export * from "./types";
export { PLATFORM_CONTRACT, PLATFORM_OUTPUTS, checkAppAgainstPlatform, platformFactsFromOutputs } from "./platform";

export function parseConfig(input: ConfigInput): ConfigResult {
  const r = new ConfigReader(input);
  reportUnknownKeys(r);
  const role = readRole(r);
  let config: StackConfig | undefined;
  if (role === "platform") config = readPlatformStack(r);
  if (role === "app") config = readAppStack(r);
  if (role === "combined") config = readCombined(r);
  if (r.problems.length > 0 || !config) return { ok: false, problems: r.problems, warnings: r.warnings };
  return { ok: true, config, warnings: r.warnings };
}

/** The platform and dot-ai in one stack, in either pattern: what prod and dev have always been. */
function readCombined(r: ConfigReader): CombinedConfig | undefined {
  const mode = readMode(r);
  const hostname = readHostname(r);
  const { https, plaintextHttp } = readTransport(r, `The MCP endpoint http://${hostname} is`);
  const crds = readCrds(r);
  const app = readApp(r);
  const className = readGatewayClassName(r, mode);
  const common = { role: "combined" as const, stack: r.stack, hostname, https, plaintextHttp, crds, app };
  if (mode === "reference") {
    const ctx = { hostname, https, plaintextHttp, appNamespace: app.namespace, defaultAllowedRoutes: "All" as const };
    return { ...common, mode, sharedGateway: readSharedGateway(r, className, ctx) };
  }
  if (mode === "creation") {
    const redirectNamespace = httpsRedirectNamespace(app.namespace);
    const redirectProblem = checkDnsLabel(redirectNamespace);
    if (https && !plaintextHttp && checkDnsLabel(app.namespace) === undefined && redirectProblem) {
      r.report(
        "namespace",
        `'${app.namespace}' is too long for the namespace of the chart Gateway's redirect to HTTPS: '${redirectNamespace}' ${redirectProblem}`,
        setCommand("namespace", "dot-ai"),
      );
    }
    if (app.migration) {
      r.report(
        "migrateFrom",
        "is set on a creation-pattern stack: the chart renders its own Gateway only with its Ingress off (every version refuses both), so during the move there would be no Gateway for the bridge route to attach to, and turning the Ingress off would cut service before DNS can point at a Gateway",
        `${setCommand("mode", "reference")} (the bridge route attaches to the shared Gateway, see docs/migration.md)`,
      );
    }
    const ctx = { hostname, https, plaintextHttp, releaseName: app.releaseName };
    return { ...common, mode, createdGateway: readCreatedGateway(r, className, ctx) };
  }
  return undefined;
}

/**
 * dot-ai on a Gateway this stack does not own. With explicit Gateway settings everything is
 * checked here; with `platformStack` the checks against the platform run once its outputs are read.
 */
function readAppStack(r: ConfigReader): AppStackConfig | undefined {
  const hostname = readHostname(r);
  const app = readApp(r);
  const namespaceLabels = readNamespaceLabels(r);
  const plaintextHttp = readPlaintextConsent(r, hostname);
  const platform = readPlatformSource(r, r.input.project);
  if (!platform) return undefined;
  if (platform.kind === "explicit") {
    const side = { hostname, namespace: app.namespace, namespaceLabels, plaintextHttp };
    for (const p of checkAppAgainstPlatform(side, platform.facts)) r.report(p.key, p.problem, p.fix);
  }
  return { role: "app", mode: "reference", stack: r.stack, hostname, app, platform, namespaceLabels, plaintextHttp };
}

/**
 * An app stack's consent to a Gateway that serves it in clear: the Gateway is another stack's, so
 * this key only allows what the platform decided; the checks against the platform require it then.
 */
function readPlaintextConsent(r: ConfigReader, hostname: string): boolean {
  const consent = r.bool("allowPlaintextHttp", false);
  if (consent) {
    r.warn(
      `${CONFIG_NAMESPACE}:allowPlaintextHttp is true: this app accepts a Gateway that serves http://${hostname} on plain HTTP, where the bearer token and every tool call cross the network in clear. Once the platform serves HTTPS only: ${removeCommand("allowPlaintextHttp")}`,
    );
  }
  return consent;
}

function readNamespaceLabels(r: ConfigReader): Record<string, string> {
  const text = r.optional("namespaceLabels");
  if (text === undefined) return {};
  const fix = `pulumi config set --path '${CONFIG_NAMESPACE}:namespaceLabels.shared-gateway-access' true`;
  const labels = parseStringMap(text);
  if (!labels) {
    r.report("namespaceLabels", "must be a JSON object of string values", fix);
    return {};
  }
  for (const [key, value] of Object.entries(labels)) {
    const problem = checkLabel(key, value);
    if (problem) r.report("namespaceLabels", problem, fix);
  }
  return labels;
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

/** Every problem, numbered, each with its fix; `what` names what is wrong as a whole. */
export function formatProblems(problems: readonly ConfigProblem[], what = "Invalid configuration"): string {
  const lines = problems.map((p, i) => `  ${i + 1}. ${CONFIG_NAMESPACE}:${p.key} ${p.problem}.\n     Fix: ${p.fix}`);
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  return `${what} (${count}); nothing was deployed:\n${lines.join("\n")}`;
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
  const result = parseConfig({
    stack: pulumi.getStack(),
    project: pulumi.getProject(),
    values,
    secretKeys,
    baseDir: process.cwd(),
  });
  for (const warning of result.warnings) pulumi.log.warn(warning);
  if (!result.ok) throw userError(formatProblems(result.problems));

  const pulumiConfig = new pulumi.Config(CONFIG_NAMESPACE);
  const apiKeys: ApiKeys = {};
  const providers = result.config.role === "platform" ? [] : result.config.app.apiKeyProviders;
  for (const provider of providers) {
    apiKeys[provider] = pulumiConfig.requireSecret(apiKeyConfigKey(provider));
  }
  return { config: result.config, apiKeys };
}

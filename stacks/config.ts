/**
 * Stack configuration: read once, validated once, into a typed object.
 *
 * `parseConfig` is pure (plain strings in, typed config or a list of problems out) so that every
 * rule is testable without Pulumi. `loadConfig` feeds it the stack's real configuration, logs the
 * warnings and, if anything is wrong, stops the program with every problem listed before a single
 * resource is registered.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";

import {
  AI_PROVIDER_KEYS,
  API_KEY_PROVIDERS,
  ApiKeyProvider,
  DEFAULT_CHART,
  DEFAULT_CHART_VERSION,
  MAX_RELEASE_NAME_LENGTH,
  MIN_CHART_VERSION,
  UNMANAGED_AI_PROVIDERS,
  chartFullname,
} from "../components/chart-contract";
import { compareVersions, parseVersion } from "../components/semver";
import {
  checkDnsLabel,
  checkDnsSubdomain,
  checkDomain,
  checkHostname,
  isCoveredByWildcard,
  parentDomain,
  parseBoolean,
  parseGatewayDuration,
} from "./validators";
import { userError } from "./errors";
import { isSecretConfigKey } from "./secret-config";

/** The config namespace: keys are set as `dot-ai-gateway:<key>`. */
export const CONFIG_NAMESPACE = "dot-ai-gateway";

export type Mode = "reference" | "creation";
export const MODES: readonly Mode[] = ["reference", "creation"];
export type AllowedRoutesFrom = "All" | "Same" | "Selector";
export const ALLOWED_ROUTES: readonly AllowedRoutesFrom[] = ["All", "Same", "Selector"];

/** Which pattern each well-known stack uses when its config does not say. */
export const DEFAULT_MODE_BY_STACK: Readonly<Record<string, Mode>> = { prod: "reference", dev: "creation" };

export const DEFAULT_GATEWAY_API_VERSION = "v1.2.1";
export function gatewayApiCrdsUrl(version: string): string {
  return `https://github.com/kubernetes-sigs/gateway-api/releases/download/${version}/standard-install.yaml`;
}

export interface CrdConfig {
  /** Install the Gateway API CRDs at all (false for clusters that ship them). */
  install: boolean;
  version: string;
  /** Where the manifest comes from: a local file path (offline clusters) or the release URL. */
  source: { kind: "file"; path: string } | { kind: "url"; url: string };
  /** Keep the CRDs in the cluster when the stack is destroyed (deleting a CRD deletes every object of its kind). */
  retainOnDelete: boolean;
}

export interface SharedGatewayConfig {
  name: string;
  namespace: string;
  className: string;
  allowedRoutes: AllowedRoutesFrom;
  waitForProgrammed: boolean;
  /** Present when HTTPS is enabled: the wildcard certificate behind the 443 listener. */
  tls?: { domain: string; clusterIssuer: string; secretName: string; waitForReady: boolean };
}

export interface CreatedGatewayConfig {
  className: string;
  annotations: Record<string, string>;
  /** Present when HTTPS is enabled: the Secret the 443 listener serves (issued via the annotation). */
  tls?: { secretName: string; clusterIssuer: string };
}

export interface AppConfig {
  namespace: string;
  releaseName: string;
  /** `oci://…` or a repository URL, or a local chart directory. */
  chart: string;
  /** The version to pull for a remote chart; for a local chart, the version its Chart.yaml declares. */
  chartVersion: string;
  chartIsLocal: boolean;
  aiProvider: string;
  aiModel?: string;
  /** External Qdrant; undefined means the chart's bundled Qdrant. */
  qdrantUrl?: string;
  timeouts: { request: string; backendRequest: string };
  /** Changing this value (any string) generates a new auth token on the next `pulumi up`. */
  tokenRotation: string;
  /** Providers whose API key is set (as a secret) in config. */
  apiKeyProviders: ApiKeyProvider[];
}

interface CommonConfig {
  stack: string;
  hostname: string;
  https: boolean;
  crds: CrdConfig;
  app: AppConfig;
}

/** The reference pattern: a shared Gateway owned by the platform. */
export type ReferenceConfig = CommonConfig & { mode: "reference"; sharedGateway: SharedGatewayConfig };
/** The creation pattern: the chart creates its own Gateway. */
export type CreationConfig = CommonConfig & { mode: "creation"; createdGateway: CreatedGatewayConfig };
export type StackConfig = ReferenceConfig | CreationConfig;

export interface ConfigProblem {
  key: string;
  problem: string;
  fix: string;
}

export interface ConfigInput {
  stack: string;
  /** Config values of this project's namespace, keyed without the namespace prefix. */
  values: Readonly<Record<string, string>>;
  /** Keys (without prefix) whose value was stored with `--secret`. */
  secretKeys: ReadonlySet<string>;
  /** Directory that relative paths (chart, CRD file) are resolved against: the project root. */
  baseDir: string;
}

export type ConfigResult =
  { ok: true; config: StackConfig; warnings: string[] } | { ok: false; problems: ConfigProblem[]; warnings: string[] };

/** Every key this program reads, with a one-line description (also the README's table). */
export const CONFIG_KEYS: Readonly<Record<string, string>> = {
  mode: "reference | creation",
  allowCreationModeOnProd: "allow the creation pattern on the prod stack",
  hostname: "public host name of the MCP server",
  https: "serve HTTPS on 443",
  domain: "domain of the wildcard certificate (reference pattern)",
  gatewayClassName: "GatewayClass of the Gateway",
  gatewayName: "name of the shared Gateway",
  gatewayNamespace: "namespace of the shared Gateway",
  allowedRoutes: "which namespaces may attach routes to the shared Gateway",
  clusterIssuer: "cert-manager ClusterIssuer",
  tlsSecretName: "Secret holding the TLS certificate",
  waitForCertificate: "wait for the Certificate to be Ready",
  waitForGateway: "wait for the shared Gateway to be Programmed",
  gatewayAnnotations: "extra annotations on the chart-created Gateway (JSON object)",
  installCrds: "install the Gateway API CRDs",
  gatewayApiVersion: "Gateway API release of the CRDs",
  gatewayApiCrdsFile: "local CRD manifest instead of the release URL",
  retainCrds: "keep the CRDs when the stack is destroyed",
  namespace: "namespace of dot-ai",
  releaseName: "Helm release name",
  chart: "chart reference or local chart directory",
  chartVersion: "chart version",
  aiProvider: "the chart's ai.provider",
  aiModel: "the chart's ai.model",
  qdrantUrl: "external Qdrant URL instead of the bundled one",
  requestTimeout: "HTTPRoute request timeout",
  backendRequestTimeout: "HTTPRoute backend request timeout",
  tokenRotation: "change to generate a new auth token",
  ...Object.fromEntries(API_KEY_PROVIDERS.map((p) => [apiKeyConfigKey(p), `${p} API key (secret)`])),
};

export function apiKeyConfigKey(provider: ApiKeyProvider): string {
  return `${provider}ApiKey`;
}

function setCommand(key: string, example: string, secret = false): string {
  return `pulumi config set ${secret ? "--secret " : ""}${CONFIG_NAMESPACE}:${key} ${example}`;
}

const CHART_VERSION_FLOOR = parseVersion(MIN_CHART_VERSION) ?? { major: 0, minor: 170, patch: 0 };

export function parseConfig(input: ConfigInput): ConfigResult {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const values = input.values;
  const report = (key: string, problem: string, fix: string) => problems.push({ key, problem, fix });
  const has = (key: string) => values[key] !== undefined && values[key] !== "";
  const str = (key: string, fallback: string) => (has(key) ? values[key] : fallback);
  const bool = (key: string, fallback: boolean): boolean => {
    if (!has(key)) return fallback;
    const parsed = parseBoolean(values[key]);
    if (parsed === undefined) {
      report(key, `is '${values[key]}', not a boolean`, setCommand(key, fallback ? "false" : "true"));
      return fallback;
    }
    return parsed;
  };
  const label = (key: string, fallback: string, what: string, max = 63) => {
    const value = str(key, fallback);
    const problem = checkDnsLabel(value, max);
    if (problem) report(key, `'${value}' ${problem}`, `${setCommand(key, fallback)} (a valid ${what})`);
    return value;
  };

  // Typos must not silently fall back to defaults.
  for (const key of Object.keys(values)) {
    if (!(key in CONFIG_KEYS)) {
      const apiKey = /^(.*)ApiKey$/.exec(key);
      report(
        key,
        apiKey
          ? `names an API key for '${apiKey[1]}', which this program does not manage`
          : "is not a setting of this program",
        `pulumi config rm ${CONFIG_NAMESPACE}:${key} (known keys: ${Object.keys(CONFIG_KEYS).join(", ")})`,
      );
    }
  }

  // --- Mode -----------------------------------------------------------------------------------
  let mode: Mode | undefined = DEFAULT_MODE_BY_STACK[input.stack];
  if (has("mode")) {
    if ((MODES as readonly string[]).includes(values.mode)) mode = values.mode as Mode;
    else {
      report(
        "mode",
        `'${values.mode}' is not a mode; use 'reference' (shared Gateway) or 'creation' (chart-created Gateway)`,
        setCommand("mode", "reference"),
      );
      mode = undefined;
    }
  } else if (mode === undefined) {
    report(
      "mode",
      `is not set, and stack '${input.stack}' has no default (only 'prod' → reference and 'dev' → creation do)`,
      setCommand("mode", "reference") + "   # or creation",
    );
  }
  if (mode === "creation" && input.stack === "prod" && !bool("allowCreationModeOnProd", false)) {
    report(
      "mode",
      "is 'creation' on the prod stack: prod is meant to use the platform's shared Gateway (reference pattern)",
      `${setCommand("mode", "reference")}, or, if this is really intended, ${setCommand("allowCreationModeOnProd", "true")}`,
    );
  }

  // --- Host and HTTPS ---------------------------------------------------------------------------
  const hostname = str("hostname", "");
  if (!has("hostname"))
    report(
      "hostname",
      "is not set; it is the public host name clients connect to",
      setCommand("hostname", "dot-ai.example.com"),
    );
  else {
    const problem = checkHostname(hostname);
    if (problem) report("hostname", `'${hostname}' ${problem}`, setCommand("hostname", "dot-ai.example.com"));
  }
  const https = bool("https", mode === "reference");

  // --- Gateway ----------------------------------------------------------------------------------
  const className = str("gatewayClassName", "");
  if (!has("gatewayClassName")) {
    report(
      "gatewayClassName",
      mode === "creation"
        ? "is not set; the chart cannot create a Gateway without a GatewayClass (its rendering fails)"
        : "is not set; a Gateway needs the GatewayClass of the cluster's Gateway controller",
      `${setCommand("gatewayClassName", "<class>")}   # see: kubectl get gatewayclass`,
    );
  } else {
    const problem = checkDnsSubdomain(className);
    if (problem) report("gatewayClassName", `'${className}' ${problem}`, setCommand("gatewayClassName", "<class>"));
  }
  const clusterIssuer = str("clusterIssuer", "letsencrypt-prod");
  if (checkDnsSubdomain(clusterIssuer)) {
    report(
      "clusterIssuer",
      `'${clusterIssuer}' ${checkDnsSubdomain(clusterIssuer)}`,
      setCommand("clusterIssuer", "letsencrypt-prod"),
    );
  }

  const allowedRoutesRaw = str("allowedRoutes", "All");
  let allowedRoutes: AllowedRoutesFrom = "All";
  if ((ALLOWED_ROUTES as readonly string[]).includes(allowedRoutesRaw))
    allowedRoutes = allowedRoutesRaw as AllowedRoutesFrom;
  else
    report(
      "allowedRoutes",
      `'${allowedRoutesRaw}' is not one of All, Same, Selector`,
      setCommand("allowedRoutes", "Selector"),
    );

  const appNamespace = label("namespace", "dot-ai", "namespace name");
  const gatewayNamespace = label("gatewayNamespace", "gateway-system", "namespace name");
  const gatewayName = label("gatewayName", "cluster-gateway", "Gateway name");

  let sharedGateway: SharedGatewayConfig | undefined;
  let createdGateway: CreatedGatewayConfig | undefined;
  const tlsDefault = mode === "reference" ? "wildcard-tls" : `${chartFullname(str("releaseName", "dot-ai"))}-tls`;
  const tlsSecretName = str("tlsSecretName", tlsDefault);
  // Only a value the user typed is checked: the default derives from the (separately checked) release name.
  if (has("tlsSecretName") && checkDnsSubdomain(tlsSecretName)) {
    report(
      "tlsSecretName",
      `'${tlsSecretName}' ${checkDnsSubdomain(tlsSecretName)}`,
      setCommand("tlsSecretName", tlsDefault),
    );
  }

  if (mode === "reference") {
    if (allowedRoutes === "Same") {
      report(
        "allowedRoutes",
        `is 'Same': the shared Gateway would admit routes only from '${gatewayNamespace}', so dot-ai's HTTPRoute in '${appNamespace}' could never attach (a ReferenceGrant does not change that)`,
        `${setCommand("allowedRoutes", "Selector")}   # or All`,
      );
    }
    if (appNamespace === gatewayNamespace) {
      report(
        "namespace",
        `is '${appNamespace}', the same as the shared Gateway's namespace; the platform and the app own separate namespaces`,
        setCommand("namespace", "dot-ai"),
      );
    }
    let tls: SharedGatewayConfig["tls"];
    if (https) {
      const domain = has("domain") ? values.domain : has("hostname") ? parentDomain(hostname) : "";
      if (!domain) {
        report(
          "domain",
          "is needed for HTTPS (the wildcard certificate) and cannot be derived because hostname is not set either",
          setCommand("domain", "example.com"),
        );
      } else {
        const problem = has("domain") ? checkDomain(domain) : undefined;
        if (problem) report("domain", `'${domain}' ${problem}`, setCommand("domain", "example.com"));
        else if (has("hostname") && !checkHostname(hostname) && !isCoveredByWildcard(hostname, domain)) {
          report(
            "domain",
            `'${domain}' does not cover hostname '${hostname}': the certificate is for '*.${domain}' and '${domain}', and a wildcard matches exactly one label`,
            setCommand("domain", parentDomain(hostname)),
          );
        }
      }
      tls = { domain, clusterIssuer, secretName: tlsSecretName, waitForReady: bool("waitForCertificate", true) };
    }
    sharedGateway = {
      name: gatewayName,
      namespace: gatewayNamespace,
      className,
      allowedRoutes,
      waitForProgrammed: bool("waitForGateway", true),
      tls,
    };
  } else if (mode === "creation") {
    for (const key of [
      "gatewayName",
      "gatewayNamespace",
      "allowedRoutes",
      "domain",
      "waitForGateway",
      "waitForCertificate",
    ]) {
      if (has(key)) {
        report(
          key,
          "applies to the shared Gateway of the reference pattern; in the creation pattern the chart creates its own Gateway (allowedRoutes Same, named <release>-http)",
          `pulumi config rm ${CONFIG_NAMESPACE}:${key}`,
        );
      }
    }
    let annotations: Record<string, string> = {};
    if (has("gatewayAnnotations")) {
      const parsed = parseStringMap(values.gatewayAnnotations);
      if (parsed) annotations = parsed;
      else
        report(
          "gatewayAnnotations",
          "must be a JSON object of string values",
          `pulumi config set --path '${CONFIG_NAMESPACE}:gatewayAnnotations.example\\.com/key' value`,
        );
    }
    createdGateway = {
      className,
      // external-dns publishes the Gateway's address under the public host name.
      annotations: { "external-dns.alpha.kubernetes.io/hostname": hostname, ...annotations },
      tls: https ? { secretName: tlsSecretName, clusterIssuer } : undefined,
    };
    if (https) createdGateway.annotations["cert-manager.io/cluster-issuer"] ??= clusterIssuer;
  }

  // --- CRDs -------------------------------------------------------------------------------------
  const gatewayApiVersion = str("gatewayApiVersion", DEFAULT_GATEWAY_API_VERSION);
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(gatewayApiVersion)) {
    report(
      "gatewayApiVersion",
      `'${gatewayApiVersion}' is not a Gateway API release tag like v1.2.1`,
      setCommand("gatewayApiVersion", DEFAULT_GATEWAY_API_VERSION),
    );
  }
  let crdSource: CrdConfig["source"] = { kind: "url", url: gatewayApiCrdsUrl(gatewayApiVersion) };
  const installCrds = bool("installCrds", true);
  if (has("gatewayApiCrdsFile")) {
    const file = path.resolve(input.baseDir, values.gatewayApiCrdsFile);
    crdSource = { kind: "file", path: file };
    if (installCrds && !fs.existsSync(file)) {
      report(
        "gatewayApiCrdsFile",
        `'${file}' does not exist`,
        `${setCommand("gatewayApiCrdsFile", "<path to standard-install.yaml>")}, or pulumi config rm ${CONFIG_NAMESPACE}:gatewayApiCrdsFile to use ${gatewayApiCrdsUrl(gatewayApiVersion)}`,
      );
    }
  }
  const crds: CrdConfig = {
    install: installCrds,
    version: gatewayApiVersion,
    source: crdSource,
    retainOnDelete: bool("retainCrds", true),
  };
  if (!crds.retainOnDelete) {
    warnings.push(
      `${CONFIG_NAMESPACE}:retainCrds is false: destroying this stack deletes the Gateway API CRDs and with them every Gateway and route of the whole cluster.`,
    );
  }

  // --- App --------------------------------------------------------------------------------------
  const releaseName = label("releaseName", "dot-ai", "Helm release name", MAX_RELEASE_NAME_LENGTH);
  const chart = str("chart", DEFAULT_CHART);
  const chartIsLocal = !/^(oci|https?):\/\//.test(chart);
  let chartVersion = str("chartVersion", DEFAULT_CHART_VERSION);
  let chartDir = chart;
  if (chartIsLocal) {
    chartDir = path.resolve(input.baseDir, chart);
    const local = readLocalChartVersion(chartDir);
    if ("problem" in local)
      report(
        "chart",
        local.problem,
        `${setCommand("chart", "<chart directory>")}, or pulumi config rm ${CONFIG_NAMESPACE}:chart to use ${DEFAULT_CHART}`,
      );
    else if (has("chartVersion") && values.chartVersion !== local.version) {
      report(
        "chartVersion",
        `is '${values.chartVersion}' but the local chart at ${chartDir} is version ${local.version}`,
        `pulumi config rm ${CONFIG_NAMESPACE}:chartVersion (a local chart's version comes from its Chart.yaml)`,
      );
    } else chartVersion = local.version;
  }
  const parsedVersion = parseVersion(chartVersion);
  if (!parsedVersion) {
    report(
      chartIsLocal ? "chart" : "chartVersion",
      `version '${chartVersion}' is not a semantic version like ${DEFAULT_CHART_VERSION}`,
      setCommand("chartVersion", DEFAULT_CHART_VERSION),
    );
  } else if (compareVersions(parsedVersion, CHART_VERSION_FLOOR) < 0) {
    report(
      chartIsLocal ? "chart" : "chartVersion",
      `version ${chartVersion} is older than ${MIN_CHART_VERSION}: those charts ignore gateway.name/gateway.namespace/gateway.create without an error and render no HTTPRoute at all, so dot-ai would be unreachable`,
      setCommand("chartVersion", DEFAULT_CHART_VERSION),
    );
  }

  const aiProvider = str("aiProvider", "anthropic");
  const neededKey = AI_PROVIDER_KEYS[aiProvider];
  if (neededKey === undefined) {
    const unmanaged = (UNMANAGED_AI_PROVIDERS as readonly string[]).includes(aiProvider);
    report(
      "aiProvider",
      unmanaged
        ? `'${aiProvider}' is accepted by the chart, but this program does not manage its credentials yet`
        : `'${aiProvider}' is not a provider the chart knows`,
      `${setCommand("aiProvider", "anthropic")} (managed: ${Object.keys(AI_PROVIDER_KEYS).join(", ")})`,
    );
  }

  const apiKeyProviders: ApiKeyProvider[] = [];
  for (const provider of API_KEY_PROVIDERS) {
    const key = apiKeyConfigKey(provider);
    if (!has(key)) continue;
    if (!input.secretKeys.has(key)) {
      report(
        key,
        "is stored in plaintext in the stack's config file; API keys must be encrypted",
        `${setCommand(key, "<key>", true)}   # overwrites the plaintext value`,
      );
    } else apiKeyProviders.push(provider);
  }
  if (neededKey !== undefined && !has(apiKeyConfigKey(neededKey))) {
    report(
      apiKeyConfigKey(neededKey),
      `is not set, but aiProvider '${aiProvider}' needs it (the server would start without a usable model)`,
      setCommand(apiKeyConfigKey(neededKey), "<key>", true),
    );
  }
  if (!has(apiKeyConfigKey("openai")) && neededKey !== "openai") {
    warnings.push(
      `${CONFIG_NAMESPACE}:openaiApiKey is not set: dot-ai runs without embeddings (semantic search of capabilities and patterns is off). Set it with: ${setCommand("openaiApiKey", "<key>", true)}`,
    );
  }

  let qdrantUrl: string | undefined;
  if (has("qdrantUrl")) {
    qdrantUrl = values.qdrantUrl;
    if (!/^https?:\/\/[^\s/]+/.test(qdrantUrl))
      report(
        "qdrantUrl",
        `'${qdrantUrl}' is not an http(s) URL`,
        setCommand("qdrantUrl", "http://qdrant.qdrant.svc:6333"),
      );
  }

  const timeouts = { request: str("requestTimeout", "3600s"), backendRequest: str("backendRequestTimeout", "3600s") };
  const requestMs = parseGatewayDuration(timeouts.request);
  const backendMs = parseGatewayDuration(timeouts.backendRequest);
  for (const [key, value, ms] of [
    ["requestTimeout", timeouts.request, requestMs],
    ["backendRequestTimeout", timeouts.backendRequest, backendMs],
  ] as const) {
    if (ms === undefined)
      report(
        key,
        `'${value}' is not a Gateway API duration (1-4 parts of up to 5 digits with h, m, s or ms, e.g. 3600s or 1h)`,
        setCommand(key, "3600s"),
      );
  }
  // A request timeout of zero disables it; otherwise the backend's share cannot exceed the whole.
  if (requestMs !== undefined && backendMs !== undefined && requestMs !== 0 && backendMs > requestMs) {
    report(
      "backendRequestTimeout",
      `'${timeouts.backendRequest}' is longer than requestTimeout '${timeouts.request}'; Gateway API requires backendRequest <= request`,
      setCommand("backendRequestTimeout", timeouts.request),
    );
  }
  if (requestMs !== undefined && requestMs !== 0 && requestMs < 300_000) {
    warnings.push(
      `${CONFIG_NAMESPACE}:requestTimeout is ${timeouts.request}: MCP sessions stream over SSE and are cut after it; the upstream guide uses 3600s.`,
    );
  }

  if (problems.length > 0 || mode === undefined) return { ok: false, problems, warnings };
  const common: CommonConfig = {
    stack: input.stack,
    hostname,
    https,
    crds,
    app: {
      namespace: appNamespace,
      releaseName,
      chart: chartIsLocal ? chartDir : chart,
      chartVersion,
      chartIsLocal,
      aiProvider,
      aiModel: has("aiModel") ? values.aiModel : undefined,
      qdrantUrl,
      timeouts,
      tokenRotation: str("tokenRotation", "initial"),
      apiKeyProviders,
    },
  };
  const config: StackConfig | undefined =
    mode === "reference" && sharedGateway
      ? { ...common, mode, sharedGateway }
      : mode === "creation" && createdGateway
        ? { ...common, mode, createdGateway }
        : undefined;
  if (!config) throw new Error(`internal error: no gateway settings for mode ${mode}`);
  return { ok: true, warnings, config };
}

function parseStringMap(text: string): Record<string, string> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>);
    return entries.every(([, v]) => typeof v === "string")
      ? (Object.fromEntries(entries) as Record<string, string>)
      : undefined;
  } catch {
    return undefined;
  }
}

function readLocalChartVersion(dir: string): { version: string } | { problem: string } {
  const chartYaml = path.join(dir, "Chart.yaml");
  if (!fs.existsSync(chartYaml)) {
    return {
      problem: `'${dir}' is neither an oci://, http(s):// chart reference nor a chart directory (no Chart.yaml there)`,
    };
  }
  const doc: unknown = YAML.parse(fs.readFileSync(chartYaml, "utf8"));
  const version = typeof doc === "object" && doc !== null ? (doc as { version?: unknown }).version : undefined;
  return typeof version === "string" ? { version } : { problem: `${chartYaml} has no version` };
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p, i) => `  ${i + 1}. ${CONFIG_NAMESPACE}:${p.key} ${p.problem}.\n     Fix: ${p.fix}`);
  return `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was deployed:\n${lines.join("\n")}`;
}

/** The API keys as secret Outputs; their values never leave Pulumi's secret handling. */
export type ApiKeys = Partial<Record<ApiKeyProvider, pulumi.Output<string>>>;

/** Reads and validates this stack's config, or stops the program listing every problem. */
export function loadConfig(): { config: StackConfig; apiKeys: ApiKeys } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const all = pulumi.runtime.allConfig();
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [fullKey, value] of Object.entries(all)) {
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
  for (const provider of result.config.app.apiKeyProviders)
    apiKeys[provider] = pulumiConfig.requireSecret(apiKeyConfigKey(provider));
  return { config: result.config, apiKeys };
}

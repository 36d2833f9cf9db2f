import * as fs from "fs";
import * as path from "path";
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
} from "../../components/chart-contract";
import { compareVersions, parseVersion } from "../../components/semver";
import { parseGatewayDuration } from "../validators";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import { AppConfig, CONFIG_NAMESPACE, apiKeyConfigKey } from "./types";

const CHART_VERSION_FLOOR = parseVersion(MIN_CHART_VERSION) ?? { major: 0, minor: 170, patch: 0 };

/** The application team's settings: release, chart, AI provider and keys, Qdrant, route timeouts. */
export function readApp(r: ConfigReader): AppConfig {
  const aiProvider = r.str("aiProvider", "anthropic");
  return {
    namespace: r.dnsLabel("namespace", "dot-ai", "namespace name"),
    releaseName: r.dnsLabel("releaseName", "dot-ai", "Helm release name", MAX_RELEASE_NAME_LENGTH),
    ...readChart(r),
    aiProvider,
    aiModel: r.optional("aiModel"),
    apiKeyProviders: readApiKeys(r, aiProvider),
    qdrantUrl: readQdrantUrl(r),
    timeouts: readTimeouts(r),
    tokenRotation: r.str("tokenRotation", "initial"),
  };
}

/** The chart and its version; a local chart's version comes from its Chart.yaml. Both must be >= the floor. */
function readChart(r: ConfigReader): Pick<AppConfig, "chart" | "chartVersion" | "chartIsLocal"> {
  const reference = r.str("chart", DEFAULT_CHART);
  const chartIsLocal = !/^(oci|https?):\/\//.test(reference);
  const chart = chartIsLocal ? path.resolve(r.input.baseDir, reference) : reference;
  let chartVersion = r.str("chartVersion", DEFAULT_CHART_VERSION);
  if (chartIsLocal) {
    const local = readLocalChartVersion(chart);
    if ("problem" in local) {
      r.report(
        "chart",
        local.problem,
        `${setCommand("chart", "<chart directory>")}, or ${removeCommand("chart")} to use ${DEFAULT_CHART}`,
      );
      return { chart, chartVersion, chartIsLocal };
    }
    if (r.has("chartVersion") && chartVersion !== local.version) {
      r.report(
        "chartVersion",
        `is '${chartVersion}' but the local chart at ${chart} is version ${local.version}`,
        `${removeCommand("chartVersion")} (a local chart's version comes from its Chart.yaml)`,
      );
    }
    chartVersion = local.version;
  }
  const key = chartIsLocal ? "chart" : "chartVersion";
  const parsed = parseVersion(chartVersion);
  if (!parsed) {
    r.report(
      key,
      `version '${chartVersion}' is not a semantic version like ${DEFAULT_CHART_VERSION}`,
      setCommand("chartVersion", DEFAULT_CHART_VERSION),
    );
  } else if (compareVersions(parsed, CHART_VERSION_FLOOR) < 0) {
    r.report(
      key,
      `version ${chartVersion} is older than ${MIN_CHART_VERSION}: those charts ignore gateway.name/gateway.namespace/gateway.create without an error and render no HTTPRoute at all, so dot-ai would be unreachable`,
      setCommand("chartVersion", DEFAULT_CHART_VERSION),
    );
  }
  return { chart, chartVersion, chartIsLocal };
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

/**
 * The providers whose API key is set as a secret. The chosen provider's key is required; a key in
 * plaintext is refused (its value is never repeated in the message).
 */
function readApiKeys(r: ConfigReader, aiProvider: string): ApiKeyProvider[] {
  const needed = AI_PROVIDER_KEYS[aiProvider];
  if (needed === undefined) {
    const unmanaged = (UNMANAGED_AI_PROVIDERS as readonly string[]).includes(aiProvider);
    r.report(
      "aiProvider",
      unmanaged
        ? `'${aiProvider}' is accepted by the chart, but this program does not manage its credentials yet`
        : `'${aiProvider}' is not a provider the chart knows`,
      `${setCommand("aiProvider", "anthropic")} (managed: ${Object.keys(AI_PROVIDER_KEYS).join(", ")})`,
    );
  } else if (!r.has(apiKeyConfigKey(needed))) {
    r.report(
      apiKeyConfigKey(needed),
      `is not set, but aiProvider '${aiProvider}' needs it (the server would start without a usable model)`,
      setCommand(apiKeyConfigKey(needed), "<key>", true),
    );
  }
  if (!r.has(apiKeyConfigKey("openai")) && needed !== "openai") {
    r.warn(
      `${CONFIG_NAMESPACE}:openaiApiKey is not set: dot-ai runs without embeddings (semantic search of capabilities and patterns is off). Set it with: ${setCommand("openaiApiKey", "<key>", true)}`,
    );
  }
  return API_KEY_PROVIDERS.filter((provider) => {
    const key = apiKeyConfigKey(provider);
    if (!r.has(key)) return false;
    if (r.isSecret(key)) return true;
    r.report(
      key,
      "is stored in plaintext in the stack's config file; API keys must be encrypted",
      `${setCommand(key, "<key>", true)}   # overwrites the plaintext value`,
    );
    return false;
  });
}

function readQdrantUrl(r: ConfigReader): string | undefined {
  const url = r.optional("qdrantUrl");
  if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) {
    r.report("qdrantUrl", `'${url}' is not an http(s) URL`, setCommand("qdrantUrl", "http://qdrant.qdrant.svc:6333"));
  }
  return url;
}

/** The HTTPRoute's timeouts: Gateway API durations, backendRequest within request. */
function readTimeouts(r: ConfigReader): AppConfig["timeouts"] {
  const timeouts = {
    request: r.str("requestTimeout", "3600s"),
    backendRequest: r.str("backendRequestTimeout", "3600s"),
  };
  const ms = (key: string, value: string) => {
    const parsed = parseGatewayDuration(value);
    if (parsed === undefined) {
      r.report(
        key,
        `'${value}' is not a Gateway API duration (1-4 parts of up to 5 digits with h, m, s or ms, e.g. 3600s or 1h)`,
        setCommand(key, "3600s"),
      );
    }
    return parsed;
  };
  const requestMs = ms("requestTimeout", timeouts.request);
  const backendMs = ms("backendRequestTimeout", timeouts.backendRequest);
  // A request timeout of zero disables it; otherwise the backend's share cannot exceed the whole.
  if (requestMs !== undefined && backendMs !== undefined && requestMs !== 0 && backendMs > requestMs) {
    r.report(
      "backendRequestTimeout",
      `'${timeouts.backendRequest}' is longer than requestTimeout '${timeouts.request}'; Gateway API requires backendRequest <= request`,
      setCommand("backendRequestTimeout", timeouts.request),
    );
  }
  if (requestMs !== undefined && requestMs !== 0 && requestMs < 300_000) {
    r.warn(
      `${CONFIG_NAMESPACE}:requestTimeout is ${timeouts.request}: MCP sessions stream over SSE and are cut after it; the upstream guide uses 3600s.`,
    );
  }
  return timeouts;
}

import * as path from "path";

import {
  AI_PROVIDERS,
  API_KEY_PROVIDERS,
  ApiKeyProvider,
  DEFAULT_CHART,
  DEFAULT_CHART_VERSION,
  MAX_RELEASE_NAME_LENGTH,
  MIN_CHART_VERSION,
  SECRET_ENTRIES,
  inRange,
  isBelowFloor,
  isNewerThanVerified,
  managedProvidersOf,
  parseChartVersion,
} from "../../components/chart-contract";
import { readLocalChartVersion } from "../local-chart";
import { parseGatewayDuration } from "../validators";
import { checkMigrationNames, readMigration } from "./migration";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import { AGENT_ACCESS_KINDS, AgentAccess, AppConfig, CONFIG_NAMESPACE, apiKeyConfigKey } from "./types";

type ChartConfig = Pick<AppConfig, "chart" | "chartVersion" | "chartIsLocal">;

/** The application team's settings: release, chart, AI provider and keys, Qdrant, route timeouts. */
export function readApp(r: ConfigReader): AppConfig {
  const aiProvider = r.str("aiProvider", "anthropic");
  const chart = readChart(r);
  const migration = readMigration(r);
  const names = {
    namespace: r.dnsLabel("namespace", migration?.namespace ?? "dot-ai", "namespace name"),
    releaseName: r.dnsLabel(
      "releaseName",
      migration?.releaseName ?? "dot-ai",
      "Helm release name",
      MAX_RELEASE_NAME_LENGTH,
    ),
  };
  if (migration) checkMigrationNames(r, migration, names);
  return {
    ...names,
    ...chart,
    aiProvider,
    aiModel: r.optional("aiModel"),
    apiKeyProviders: readApiKeys(r, aiProvider, usableVersion(chart)),
    qdrantUrl: readQdrantUrl(r),
    timeouts: readTimeouts(r),
    tokenRotation: r.str("tokenRotation", "initial"),
    agentAccess: readAgentAccess(r),
    ...(migration ? { migration } : {}),
  };
}

/**
 * `agentAccess` (default `chart`: the chart's own ClusterRole, as every release of it has had) and,
 * for `read-write-namespaces`, `agentWriteNamespaces`. Why the default: docs/security.md.
 */
function readAgentAccess(r: ConfigReader): AgentAccess {
  const kind = r.oneOf("agentAccess", AGENT_ACCESS_KINDS, "chart", "read");
  const namespaces = r.namespaceList("agentWriteNamespaces");
  if (kind !== "read-write-namespaces") {
    if (namespaces !== undefined) {
      r.report(
        "agentWriteNamespaces",
        `is set, but agentAccess is '${kind}', which writes ${kind === "chart" ? "everywhere" : "nowhere"}; the list applies to agentAccess read-write-namespaces only`,
        `${setCommand("agentAccess", "read-write-namespaces")}, or ${removeCommand("agentWriteNamespaces")}`,
      );
    }
    return { kind };
  }
  if (namespaces === undefined || namespaces.length === 0) {
    r.report(
      "agentWriteNamespaces",
      `is ${namespaces === undefined ? "not set" : "empty"}, but agentAccess read-write-namespaces writes only in the namespaces it lists`,
      `pulumi config set --path '${CONFIG_NAMESPACE}:agentWriteNamespaces[0]' team-a   # or ${setCommand("agentAccess", "read")}`,
    );
  }
  return { kind, namespaces: namespaces ?? [] };
}

/**
 * The chart and its version; a local chart (directory or .tgz) takes its version from its
 * Chart.yaml. Either way the version must be at least the floor.
 */
function readChart(r: ConfigReader): ChartConfig {
  const reference = r.str("chart", DEFAULT_CHART);
  const chartIsLocal = !/^(oci|https?):\/\//.test(reference);
  const chart = chartIsLocal ? path.resolve(r.input.baseDir, reference) : reference;
  let chartVersion = r.str("chartVersion", DEFAULT_CHART_VERSION);
  if (chartIsLocal) {
    const local = readLocalChartVersion(chart);
    if ("problem" in local) {
      r.report(
        "chart",
        `${local.problem}; it must be an oci:// or http(s):// chart reference, a chart directory or a packaged chart (.tgz)`,
        `${setCommand("chart", "<chart directory or .tgz>")}, or ${removeCommand("chart")} to use ${DEFAULT_CHART}`,
      );
      return { chart, chartVersion: "", chartIsLocal };
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
  const parsed = parseChartVersion(chartVersion);
  if (parsed === undefined) {
    r.report(
      key,
      `version '${chartVersion}' is not a semantic version like ${DEFAULT_CHART_VERSION}`,
      setCommand("chartVersion", DEFAULT_CHART_VERSION),
    );
  } else if (isBelowFloor(parsed)) {
    r.report(
      key,
      `version ${chartVersion} is older than ${MIN_CHART_VERSION}: those charts ignore gateway.name/gateway.namespace/gateway.create without an error and render no HTTPRoute at all, so dot-ai would be unreachable`,
      newerChartFix({ chart, chartVersion, chartIsLocal }),
    );
  } else if (isNewerThanVerified(parsed)) {
    r.warn(
      `${CONFIG_NAMESPACE}:${key}: chart ${chartVersion} is newer than ${DEFAULT_CHART_VERSION}, the newest version this program was verified with; its values are shaped as for ${DEFAULT_CHART_VERSION}, and Helm ignores any key a chart no longer has without an error.`,
    );
  }
  // Helm looks a registry chart up by its tag, which has no `v`: `v2.2.2` would name no chart.
  return { chart, chartVersion: parsed ?? chartVersion, chartIsLocal };
}

/** The chart version the version rules apply to, once it is known to be valid and supported. */
function usableVersion(chart: ChartConfig): { version: string; chart: ChartConfig } | undefined {
  const version = parseChartVersion(chart.chartVersion);
  return version !== undefined && !isBelowFloor(version) ? { version, chart } : undefined;
}

/** "chartVersion is 0.170.0", or where a local chart's version came from. */
function versionSource(chart: ChartConfig): string {
  return chart.chartIsLocal
    ? `the local chart ${chart.chart} is version ${chart.chartVersion}`
    : `chartVersion is ${chart.chartVersion}`;
}

function newerChartFix(chart: ChartConfig): string {
  return chart.chartIsLocal
    ? `${setCommand("chart", `<chart of version ${DEFAULT_CHART_VERSION}>`)}, or ${removeCommand("chart")} and ${setCommand("chartVersion", DEFAULT_CHART_VERSION)}`
    : setCommand("chartVersion", DEFAULT_CHART_VERSION);
}

/**
 * Checks the AI provider against the chart version and returns the chart `secrets` entries whose
 * credential is set as a secret. The chosen provider's credential is required; a credential in
 * plaintext, or one the chart version has no `secrets` entry for, is refused (values are never
 * repeated in a message). `target` is undefined when the chart version is unusable (reported
 * already); then only what holds for every version is checked.
 */
function readApiKeys(
  r: ConfigReader,
  aiProvider: string,
  target: { version: string; chart: ChartConfig } | undefined,
): ApiKeyProvider[] {
  const needed = readProvider(r, aiProvider, target);
  if (needed !== undefined && !r.has(apiKeyConfigKey(needed))) {
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
  return API_KEY_PROVIDERS.filter((entry) => {
    const key = apiKeyConfigKey(entry);
    if (!r.has(key)) return false;
    const since = SECRET_ENTRIES[entry].since;
    if (target && !inRange(target.version, { since })) {
      r.report(
        key,
        `needs chart ${since} or later (the chart's secrets.${entry} entry first appears there); ${versionSource(target.chart)}`,
        `${newerChartFix(target.chart)}, or ${removeCommand(key)}`,
      );
      return false;
    }
    if (r.isSecret(key)) return true;
    r.report(
      key,
      "is stored in plaintext in the stack's config file; API keys must be encrypted",
      `${setCommand(key, "<key>", true)}   # overwrites the plaintext value`,
    );
    return false;
  });
}

/** Checks `aiProvider` for the chart version; returns the secrets entry it needs, if any. */
function readProvider(
  r: ConfigReader,
  aiProvider: string,
  target: { version: string; chart: ChartConfig } | undefined,
): ApiKeyProvider | undefined {
  const fact = AI_PROVIDERS[aiProvider];
  const managed = `managed${target ? ` with chart ${target.version}` : ""}: ${
    target ? managedProvidersOf(target.version).join(", ") : "see docs/configuration.md"
  }`;
  if (fact === undefined) {
    r.report(
      "aiProvider",
      `'${aiProvider}' is not a provider the chart knows`,
      `${setCommand("aiProvider", "anthropic")} (${managed})`,
    );
    return undefined;
  }
  if ("refused" in fact) {
    r.report(
      "aiProvider",
      `'${aiProvider}' is accepted by the chart, but this program does not manage its credentials: ${fact.refused}`,
      `${setCommand("aiProvider", "anthropic")} (${managed})`,
    );
    return undefined;
  }
  if (target && !inRange(target.version, { since: fact.since })) {
    r.report(
      "aiProvider",
      `'${aiProvider}' needs chart ${fact.since} or later; ${versionSource(target.chart)}`,
      newerChartFix(target.chart),
    );
  } else if (target && fact.until !== undefined && !inRange(target.version, fact)) {
    r.report(
      "aiProvider",
      `'${aiProvider}' is no longer known from chart ${fact.until} on${fact.replacedBy ? ` (replaced by '${fact.replacedBy}')` : ""}, and the server would start without a model; ${versionSource(target.chart)}`,
      setCommand("aiProvider", fact.replacedBy ?? "anthropic"),
    );
  }
  if (fact.needs === "none") {
    r.warn(
      `${CONFIG_NAMESPACE}:aiProvider is '${aiProvider}': dot-ai has no model of its own and asks the MCP client's model through MCP sampling, so only clients that support sampling get AI answers.`,
    );
    return undefined;
  }
  return fact.needs;
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

/**
 * What this program relies on from the dot-ai Helm chart, in one place, per chart version.
 *
 * The facts were read from the chart packages in test/charts (0.170.0, 1.25.0, 2.2.2) and, for the
 * exact version that introduced or removed something, from the upstream repository's history
 * (vfarcic/dot-ai, charts/ and src/core/model-config.ts at each release tag). No chart version
 * has a values schema: Helm silently ignores a key the chart does not know, which is why every
 * value below is passed only to the versions that read it, and why a setting a version lacks is
 * refused rather than passed on.
 */
import * as semver from "semver";

export const DEFAULT_CHART = "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai";
/**
 * First chart version with `gateway.name`/`gateway.namespace`/`gateway.create`; older charts
 * ignore them without an error and render no HTTPRoute at all.
 */
export const MIN_CHART_VERSION = "0.170.0";
/** The newest release whose package was verified end to end (test/charts). */
export const DEFAULT_CHART_VERSION = "2.2.2";

/** Helm limits release names to 53 characters (it appends suffixes to derived names). */
export const MAX_RELEASE_NAME_LENGTH = 53;

/**
 * dot-ai serves MCP (streamable HTTP) on every path, each request authenticated by the bearer token,
 * and streams only within sessions: a GET of `/sse` or of any path without a session is answered
 * 404 (2.x) or 400 (0.x), never a stream. A session starts with this `initialize` POST, answered
 * as an event stream with the session's id: the first request of every client, and what the
 * checks (`verify.mcp`, `doctor --probe`) send.
 */
export const MCP_INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "dot-ai-gateway-check", version: "1" },
  },
});

/** The Secret the chart's Deployment reads (`secrets.name`, the same in every version). */
export const SECRETS_NAME = "dot-ai-secrets";
/**
 * Key of the bearer token (`secrets.auth.keyName`). Up to 1.5.x the Deployment reads it with
 * `optional: true` (a missing key means no authentication); from 1.6.0 on the reference is
 * required (a missing key keeps the pod from starting).
 */
export const AUTH_KEY_NAME = "auth-token";

/** Chart versions a fact holds for: `since` inclusive, `until` exclusive (absent: still true in 2.2.2). */
export interface VersionRange {
  since: string;
  until?: string;
}

/** Whether `version` (a valid semantic version) lies in `range`. */
export function inRange(version: string, range: VersionRange): boolean {
  return semver.gte(version, range.since) && (range.until === undefined || semver.lt(version, range.until));
}

/** The normalized version, or undefined when `text` is not a semantic version. */
export function parseChartVersion(text: string): string | undefined {
  return semver.valid(text.trim()) ?? undefined;
}

export function isBelowFloor(version: string): boolean {
  return semver.lt(version, MIN_CHART_VERSION);
}

/** Newer than every verified version: the facts below may no longer hold. */
export function isNewerThanVerified(version: string): boolean {
  return semver.gt(version, DEFAULT_CHART_VERSION);
}

/**
 * `deployment.method` (standard | toolhive) exists only in 0.x; 1.0.0 made the chart
 * Kubernetes-only and dropped the key (upstream commit "Kubernetes-only deployment", PRD #345).
 */
const DEPLOYMENT_METHOD: VersionRange = { since: MIN_CHART_VERSION, until: "1.0.0" };

export function hasDeploymentMethod(version: string): boolean {
  return inRange(version, DEPLOYMENT_METHOD);
}

/**
 * The chart's `secrets.<entry>` maps this program manages: each holds one credential under
 * `keyName` in the Secret `secrets.name`, read by the Deployment into one environment variable.
 * `configKey` is the stack setting (always stored with --secret) the value comes from.
 */
export const SECRET_ENTRIES = {
  anthropic: { keyName: "anthropic-api-key", configKey: "anthropicApiKey", since: MIN_CHART_VERSION },
  openai: { keyName: "openai-api-key", configKey: "openaiApiKey", since: MIN_CHART_VERSION },
  google: { keyName: "google-api-key", configKey: "googleApiKey", since: MIN_CHART_VERSION },
  xai: { keyName: "xai-api-key", configKey: "xaiApiKey", since: MIN_CHART_VERSION },
  /** Moonshot AI, for the kimi providers; already in 0.170.0. */
  moonshot: { keyName: "moonshot-api-key", configKey: "moonshotApiKey", since: MIN_CHART_VERSION },
  /** Alibaba Model Studio (Qwen); `secrets.alibaba` first appears in 1.12.0. */
  alibaba: { keyName: "alibaba-api-key", configKey: "alibabaApiKey", since: "1.12.0" },
  /** A GitHub OAuth/App token (gho_… or ghu_…), `secrets.copilot.token`; first in 1.20.0. */
  copilot: { keyName: "copilot-token", configKey: "copilotToken", since: "1.20.0" },
} as const satisfies Record<string, { keyName: string; configKey: string; since: string }>;

export type ApiKeyProvider = keyof typeof SECRET_ENTRIES;
export const API_KEY_PROVIDERS = Object.keys(SECRET_ENTRIES) as ApiKeyProvider[];

/** The secret entries a chart version has. */
export function secretEntriesOf(version: string): ApiKeyProvider[] {
  return API_KEY_PROVIDERS.filter((entry) => semver.gte(version, SECRET_ENTRIES[entry].since));
}

/** An `ai.provider` value, the versions whose server knows it, and the credential it needs. */
export type AiProviderFact = VersionRange &
  (
    | { needs: ApiKeyProvider }
    /** `host` asks the MCP client's own model through MCP sampling: no credential at all. */
    | { needs: "none" }
    /** Known to the chart, but its credentials are not one key in the `secrets` map. */
    | { refused: string }
  ) & { replacedBy?: string };

/**
 * `ai.provider` values per version. The chart passes the value to the server unchanged
 * (`AI_PROVIDER`); a value the server does not know makes it start without any model, so the
 * ranges follow the server code shipped with each chart version.
 */
export const AI_PROVIDERS: Readonly<Record<string, AiProviderFact>> = {
  anthropic: { since: MIN_CHART_VERSION, needs: "anthropic" },
  anthropic_opus: { since: MIN_CHART_VERSION, needs: "anthropic" },
  anthropic_haiku: { since: MIN_CHART_VERSION, needs: "anthropic" },
  openai: { since: MIN_CHART_VERSION, needs: "openai" },
  google: { since: MIN_CHART_VERSION, needs: "google" },
  google_flash: { since: "0.171.0", needs: "google" },
  kimi: { since: MIN_CHART_VERSION, needs: "moonshot" },
  /** Folded into `kimi` (Kimi K2.5 thinks by default) in 1.8.0. */
  kimi_thinking: { since: MIN_CHART_VERSION, until: "1.8.0", needs: "moonshot", replacedBy: "kimi" },
  xai: { since: MIN_CHART_VERSION, needs: "xai" },
  alibaba: { since: "1.12.0", needs: "alibaba" },
  copilot: { since: "1.20.0", needs: "copilot" },
  host: { since: MIN_CHART_VERSION, needs: "none" },
  amazon_bedrock: {
    since: MIN_CHART_VERSION,
    refused:
      "it authenticates through the AWS SDK credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION or a workload identity on the ServiceAccount), which the chart's secrets map does not carry",
  },
  custom: {
    since: MIN_CHART_VERSION,
    refused:
      "it needs an OpenAI-compatible endpoint URL (ai.customEndpoint.baseURL) as well as a key, which this program has no settings for",
  },
};

/** The `ai.provider` values this program deploys with the given chart version. */
export function managedProvidersOf(version: string): string[] {
  return Object.entries(AI_PROVIDERS)
    .filter(([, fact]) => !("refused" in fact) && inRange(version, fact))
    .map(([name]) => name);
}

/**
 * The name of the program's bridge HTTPRoute beside the chart's own (docs/migration.md): never the
 * chart's name, which Helm creates when the release moves to Gateway API.
 */
export function bridgeRouteName(fullname: string): string {
  return `${fullname}-bridge`;
}

/** The port of the chart's Service (templates/service.yaml, every version). */
export const SERVICE_PORT = 3456;

/**
 * The chart's agentic-tools plugin Deployment exists from 1.0.1 on, named `<release>-agentic-tools`
 * (templates/plugin-deployment.yaml: the release name, not the fullname).
 */
const AGENTIC_TOOLS: VersionRange = { since: "1.0.1" };

/** The Deployments chart `version` renders for a release (besides the bundled Qdrant's StatefulSet). */
export function chartDeployments(version: string, releaseName: string): string[] {
  const server = chartFullname(releaseName);
  return inRange(version, AGENTIC_TOOLS) ? [server, `${releaseName}-agentic-tools`] : [server];
}

/** From 1.6.0 on the Deployment reads the auth key without `optional: true` (see AUTH_KEY_NAME). */
const AUTH_KEY_REQUIRED: VersionRange = { since: "1.6.0" };

/** Whether a missing auth key keeps chart `version`'s pods from starting (else they run without auth). */
export function authKeyRequired(version: string): boolean {
  return inRange(version, AUTH_KEY_REQUIRED);
}

/**
 * The chart's `<fullname>`: the release name if it contains the chart's name ("dot-ai", or the
 * `nameOverride` value), else `<release>-<name>`, cut to a DNS label.
 */
export function chartFullname(releaseName: string, chartName = "dot-ai"): string {
  return dnsLabelCut(releaseName.includes(chartName) ? releaseName : `${releaseName}-${chartName}`);
}

/** A name cut to 63 characters without a trailing dash, as the chart's templates cut it. */
export function dnsLabelCut(name: string): string {
  return name.slice(0, 63).replace(/-+$/, "");
}

/** Name of the Gateway the chart creates in the creation pattern. */
export function createdGatewayName(releaseName: string): string {
  return `${chartFullname(releaseName)}-http`;
}

/**
 * The bundled Qdrant (subchart `qdrant`, every version) is a StatefulSet named `<release>-qdrant`
 * (the release name alone when it contains "qdrant") with one volume claim template,
 * `qdrant-storage`: 10Gi, ReadWriteOnce, no storageClassName (so the cluster's default class).
 */
export const QDRANT_CLAIM = { sizeBytes: 10 * 1024 ** 3, size: "10Gi", accessMode: "ReadWriteOnce" } as const;

/** The bundled Qdrant's StatefulSet. */
export function qdrantStatefulSetName(releaseName: string): string {
  const fullname = releaseName.includes("qdrant") ? releaseName : `${releaseName}-qdrant`;
  return fullname.slice(0, 63).replace(/-+$/, "");
}

/** The claim of the bundled Qdrant's first (only) pod. */
export function qdrantClaimName(releaseName: string): string {
  return `qdrant-storage-${qdrantStatefulSetName(releaseName)}-0`;
}

/**
 * What this program relies on from the dot-ai Helm chart, in one place.
 *
 * These are facts about the upstream chart (see ../shared/dot-ai-chart-contract.md beside the
 * repository). The gateway values below exist only from 0.170.0 on; older charts ignore them
 * without an error and render no HTTPRoute at all, which is why the version floor is enforced.
 */

export const DEFAULT_CHART = "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai";
/** First chart version with `gateway.name`/`gateway.namespace`/`gateway.create`. */
export const MIN_CHART_VERSION = "0.170.0";
export const DEFAULT_CHART_VERSION = "0.170.0";

/** Helm limits release names to 53 characters (it appends suffixes to derived names). */
export const MAX_RELEASE_NAME_LENGTH = 53;

/** The path MCP clients stream from. */
export const SSE_PATH = "/sse";

/** The Secret the chart's Deployment reads (`secrets.name`). */
export const SECRETS_NAME = "dot-ai-secrets";

/** Providers whose API key this program manages, and the chart's `secrets.<provider>` entries. */
export const API_KEY_PROVIDERS = ["anthropic", "openai", "google", "xai"] as const;
export type ApiKeyProvider = (typeof API_KEY_PROVIDERS)[number];

/**
 * Key names inside the Secret. The chart's Deployment reads exactly `secrets.*.keyName`, every
 * reference `optional: true`, so a mismatch would start the server without authentication. We
 * therefore pass these same names to the chart explicitly and write the Secret with them.
 */
export const SECRET_KEY_NAMES = {
  auth: "auth-token",
  anthropic: "anthropic-api-key",
  openai: "openai-api-key",
  google: "google-api-key",
  xai: "xai-api-key",
} as const satisfies Record<"auth" | ApiKeyProvider, string>;

/** `ai.provider` values this program can deploy, mapped to the API key each one needs. */
export const AI_PROVIDER_KEYS: Readonly<Record<string, ApiKeyProvider>> = {
  anthropic: "anthropic",
  anthropic_opus: "anthropic",
  anthropic_haiku: "anthropic",
  openai: "openai",
  google: "google",
  xai: "xai",
};

/**
 * `ai.provider` values the chart accepts but whose credentials this program does not manage yet
 * (different secret shapes, e.g. cloud credentials for Bedrock). Refused with an explanation
 * rather than deployed half-configured.
 */
export const UNMANAGED_AI_PROVIDERS = ["kimi", "kimi_thinking", "amazon_bedrock"] as const;

/** The chart's `<fullname>`: the release name if it contains "dot-ai", else `<release>-dot-ai`. */
export function chartFullname(releaseName: string): string {
  const full = releaseName.includes("dot-ai") ? releaseName : `${releaseName}-dot-ai`;
  return full.slice(0, 63).replace(/-+$/, "");
}

/** Name of the Gateway the chart creates in the creation pattern. */
export function createdGatewayName(releaseName: string): string {
  return `${chartFullname(releaseName)}-http`;
}

import * as crypto from "crypto";

import {
  AUTH_KEY_NAME,
  ApiKeyProvider,
  SECRETS_NAME,
  SECRET_ENTRIES,
  hasDeploymentMethod,
  secretEntriesOf,
} from "./chart-contract";

/** How the chart attaches its HTTPRoute: to an existing Gateway, or to one it creates. */
export type GatewayWiring =
  | { pattern: "reference"; gatewayName: string; gatewayNamespace: string }
  | {
      pattern: "creation";
      className: string;
      annotations: Record<string, string>;
      /** Serve HTTPS on 443, from this Secret. */
      https?: { secretName: string };
      /**
       * The chart's port-80 listener, which serves dot-ai in clear: the chart's listeners admit
       * routes from their own namespace and its HTTPRoute names no listener, so it attaches to
       * every one. Off, port 80 is left to the program's redirect (see ChartGatewayHttpsRedirect).
       */
      plaintextHttp: boolean;
    };

export interface ChartSettings {
  releaseName: string;
  hostname: string;
  aiProvider: string;
  aiModel?: string;
  /** External Qdrant; the chart's bundled Qdrant when undefined. */
  qdrantUrl?: string;
  timeouts: { request: string; backendRequest: string };
  gateway: GatewayWiring;
  /**
   * A ServiceAccount of the program's for the pods (the chart then renders no ServiceAccount,
   * ClusterRole or binding); the chart's own, bound to its cluster-wide ClusterRole, when undefined.
   */
  serviceAccountName?: string;
  /** A release taken over from outside the program (`migrateFrom`): what it keeps of its own values. */
  adopted?: AdoptedValues;
}

/** What an adopted release keeps of its own values, and which path serves it. */
export interface AdoptedValues {
  /** Its `ingress` values (without `enabled`), kept for the Ingress and for a rollback to it. */
  ingress: Record<string, unknown>;
  /** Its values: those for keys this program does not set (dex, resources, …) are kept. */
  values: Record<string, unknown>;
  /**
   * `both`: its Ingress serves (the chart renders no Gateway API object then: every version
   * refuses both); `gateway`: the program's Gateway wiring, the Ingress off.
   */
  phase: "both" | "gateway";
}

/**
 * The top-level values `chartValues` may set; an adopted release keeps its values for every other
 * key. (test/chart-values.test.ts checks that `chartValues` sets no key outside this list.)
 */
const MANAGED_VALUE_KEYS: readonly string[] = [
  "ai",
  "deployment",
  "extraEnv",
  "gateway",
  "ingress",
  "qdrant",
  "secrets",
  "serviceAccount",
];

/** Environment variable whose change rolls the pods when the Secret's content changes. */
export const SECRETS_REVISION_ENV = "DOT_AI_SECRETS_REVISION";

/**
 * The chart's values for chart `version`, holding only keys that version reads. They hold no
 * secret: the token and API keys live in the Secret that the Deployment reads (`secrets.name`),
 * and because no `secrets.*.token`/`apiKey` value is passed the chart renders no Secret of its
 * own. Key names are passed explicitly for every secrets entry the version has, from the same
 * table the Secret is written with, so the two cannot drift apart.
 */
export function chartValues(
  version: string,
  settings: ChartSettings,
  secretsRevision: string,
): Record<string, unknown> {
  const gateway: Record<string, unknown> = {
    timeouts: { request: settings.timeouts.request, backendRequest: settings.timeouts.backendRequest },
  };
  const wiring = settings.gateway;
  if (wiring.pattern === "reference") {
    gateway.name = wiring.gatewayName;
    gateway.namespace = wiring.gatewayNamespace;
    // No listener is created in this pattern; the hostname restricts the HTTPRoute to the public
    // host so that dot-ai does not answer for every host on the shared Gateway.
    gateway.listeners = { http: { hostname: settings.hostname } };
  } else {
    gateway.create = true;
    gateway.className = wiring.className;
    gateway.annotations = sortKeys(wiring.annotations);
    // The HTTPRoute's hostnames come from these listeners' hostnames, enabled or not: the one set
    // is enough.
    gateway.listeners = {
      http: wiring.plaintextHttp ? { enabled: true, hostname: settings.hostname } : { enabled: false },
      https: wiring.https
        ? { enabled: true, hostname: settings.hostname, secretName: wiring.https.secretName }
        : { enabled: false },
    };
  }

  const secrets: Record<string, unknown> = { name: SECRETS_NAME, auth: { keyName: AUTH_KEY_NAME } };
  for (const entry of secretEntriesOf(version)) secrets[entry] = { keyName: SECRET_ENTRIES[entry].keyName };

  const adopted = settings.adopted;
  const servesIngress = adopted?.phase === "both";
  return {
    ...unmanagedValues(adopted?.values ?? {}),
    ...(hasDeploymentMethod(version) ? { deployment: { method: "standard" } } : {}),
    ingress: { ...adopted?.ingress, enabled: servesIngress },
    ai: settings.aiModel
      ? { provider: settings.aiProvider, model: settings.aiModel }
      : { provider: settings.aiProvider },
    qdrant: settings.qdrantUrl ? { enabled: false, external: { url: settings.qdrantUrl } } : { enabled: true },
    secrets,
    ...(servesIngress ? {} : { gateway }),
    ...(settings.serviceAccountName ? { serviceAccount: { create: false, name: settings.serviceAccountName } } : {}),
    extraEnv: [{ name: SECRETS_REVISION_ENV, value: secretsRevision }],
  };
}

/** The values of an adopted release that the program does not set, and so keeps as they are. */
export function unmanagedValues(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => !MANAGED_VALUE_KEYS.includes(key)));
}

/** The Secret's data, under exactly the key names the chart is told to read. */
export function secretData(
  authToken: string,
  apiKeys: Partial<Record<ApiKeyProvider, string>>,
): Record<string, string> {
  const data: Record<string, string> = { [AUTH_KEY_NAME]: authToken };
  for (const [entry, key] of Object.entries(apiKeys) as [ApiKeyProvider, string][])
    data[SECRET_ENTRIES[entry].keyName] = key;
  return sortKeys(data);
}

/**
 * A digest of the Secret's content: it changes whenever the token or any key changes, so putting
 * it into the pod template makes Kubernetes roll the pods. SHA-256 of high-entropy secrets, cut
 * to 16 hex characters, reveals nothing about them.
 */
export function secretsRevision(data: Record<string, string>): string {
  return crypto
    .createHash("sha256")
    .update(JSON.stringify(sortKeys(data)))
    .digest("hex")
    .slice(0, 16);
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** The shape of a validated stack configuration, and the keys users type. */
import { API_KEY_PROVIDERS, ApiKeyProvider, SECRET_ENTRIES } from "../../components/chart-contract";
import { AllowedRoutesFrom, NEWEST_VERIFIED_GATEWAY_API } from "../../components/gateway-api";
import type { AgentAccess } from "../../components/agent-access";
export { AGENT_ACCESS_KINDS, type AgentAccess } from "../../components/agent-access";

/** The config namespace: keys are set as `dot-ai-gateway:<key>`. */
export const CONFIG_NAMESPACE = "dot-ai-gateway";

export type Mode = "reference" | "creation";
export const MODES: readonly Mode[] = ["reference", "creation"];
export { ALLOWED_ROUTES, type AllowedRoutesFrom } from "../../components/gateway-api";

/**
 * What a stack deploys: `combined` (default: the platform and dot-ai in one stack, as prod and dev
 * always did), `platform` (CRDs, Gateway namespace, Certificate, shared Gateway; no dot-ai) or `app`
 * (dot-ai attached to a Gateway another stack, or nobody, owns).
 */
export type Role = "combined" | "platform" | "app";
export const ROLES: readonly Role[] = ["combined", "platform", "app"];

/** Which pattern each well-known stack uses when its config does not say. */
export const DEFAULT_MODE_BY_STACK: Readonly<Record<string, Mode>> = { prod: "reference", dev: "creation" };

export const DEFAULT_GATEWAY_API_VERSION = NEWEST_VERIFIED_GATEWAY_API;
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
  /** How long each wait (Gateway Programmed, Certificate Ready) may take before `pulumi up` fails. */
  waitTimeoutSeconds: number;
  /** Present when HTTPS is enabled: the wildcard certificate behind the 443 listener. */
  tls?: { domain: string; clusterIssuer: string; secretName: string; waitForReady: boolean };
  /**
   * The port-80 listener admits application routes (`allowPlaintextHttp`); otherwise it admits only
   * the platform's own redirect to HTTPS. Always true without `tls`: HTTP is all there is then.
   */
  plaintextHttp: boolean;
}

export interface CreatedGatewayConfig {
  className: string;
  annotations: Record<string, string>;
  /** Wait, after the release, until the Gateway controller has set the chart's Gateway Programmed. */
  waitForProgrammed: boolean;
  waitTimeoutSeconds: number;
  /**
   * Present when HTTPS is enabled: the 443 listener serves `secretName`, which a Certificate the
   * program owns (in the app namespace, for the hostname) has `clusterIssuer` issue.
   */
  tls?: { secretName: string; clusterIssuer: string; waitForReady: boolean };
  /**
   * The chart's port-80 listener serves dot-ai in clear (`allowPlaintextHttp`); otherwise port 80
   * only redirects to HTTPS. Always true without `tls`.
   */
  plaintextHttp: boolean;
}

export interface AppConfig {
  namespace: string;
  releaseName: string;
  /** `oci://…` or a repository URL, or a local chart directory or packaged chart (.tgz). */
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
  /** What the agent may do in the cluster, i.e. whose ServiceAccount the pods run as. */
  agentAccess: AgentAccess;
  /** A release installed outside this program that the stack takes over (`migrateFrom`). */
  migration?: Migration;
}

/**
 * The phases of a move from Ingress to Gateway API, each one `pulumi up` (docs/migration.md):
 * `both` keeps the release's Ingress and adds a bridge HTTPRoute for the same host; `gateway` moves
 * the release to the program's own values (the chart's HTTPRoute, no Ingress).
 */
export type MigrationPhase = "both" | "gateway";
export const MIGRATION_PHASES: readonly MigrationPhase[] = ["both", "gateway"];

/** `migrateFrom` (`<namespace>/<release>`) and `migrationPhase`. */
export interface Migration {
  namespace: string;
  releaseName: string;
  phase: MigrationPhase;
}

interface CommonConfig {
  stack: string;
  hostname: string;
  https: boolean;
  /** The user said in so many words that the MCP endpoint may be served in clear (`allowPlaintextHttp`). */
  plaintextHttp: boolean;
  crds: CrdConfig;
  app: AppConfig;
}

/** The reference pattern in one stack: a shared Gateway owned by the platform. */
export type ReferenceConfig = CommonConfig & {
  role: "combined";
  mode: "reference";
  sharedGateway: SharedGatewayConfig;
};
/** The creation pattern: the chart creates its own Gateway. */
export type CreationConfig = CommonConfig & {
  role: "combined";
  mode: "creation";
  createdGateway: CreatedGatewayConfig;
};

/** A platform stack: the shared Gateway for every app stack, and no dot-ai. */
export interface PlatformStackConfig {
  role: "platform";
  mode: "reference";
  stack: string;
  crds: CrdConfig;
  sharedGateway: SharedGatewayConfig;
  /** Namespaces named in the ReferenceGrant (a record only; none: no ReferenceGrant). */
  routeNamespaces: string[];
  /** `protect` on the Gateway and its namespace: `pulumi destroy` refuses while it is on. */
  protectGateway: boolean;
}

/**
 * What an app stack knows of the Gateway it attaches to: read from the platform stack's outputs,
 * or given as explicit settings for a Gateway that no Pulumi stack owns.
 */
export interface PlatformFacts {
  gatewayName: string;
  gatewayNamespace: string;
  /** Unknown for a Gateway given by explicit settings. */
  allowedRoutes?: AllowedRoutesFrom;
  /** Labels the listeners' Selector wants on an app namespace ({} with All). */
  routeNamespaceLabels: Record<string, string>;
  https: boolean;
  /**
   * Whether the Gateway's plain-HTTP listener admits app routes: unknown (undefined) for a Gateway
   * given by explicit settings; true for a platform stack from before HTTP redirected.
   */
  plaintextHttp?: boolean;
  /** The platform certificate's domain (`*.<domain>` and `<domain>`), when known and HTTPS is on. */
  certificateDomain?: string;
  /** The Gateway API bundle the platform installed, when known. */
  gatewayApiVersion?: string;
}

/** Where an app stack finds its Gateway. */
export type PlatformSource = { kind: "stack"; stack: string } | { kind: "explicit"; facts: PlatformFacts };

/** An app stack: dot-ai attached to a Gateway it does not own. */
export interface AppStackConfig {
  role: "app";
  mode: "reference";
  stack: string;
  hostname: string;
  app: AppConfig;
  platform: PlatformSource;
  /** Extra labels on the app namespace (`namespaceLabels`), besides what the platform asks for. */
  namespaceLabels: Record<string, string>;
  /** Consent to a Gateway that serves the endpoint in clear too (`allowPlaintextHttp`). */
  plaintextHttp: boolean;
}

export type CombinedConfig = ReferenceConfig | CreationConfig;
export type StackConfig = CombinedConfig | PlatformStackConfig | AppStackConfig;

export interface ConfigProblem {
  key: string;
  problem: string;
  fix: string;
}

export interface ConfigInput {
  stack: string;
  /** The Pulumi project, when known: an app stack must not name its own stack as the platform. */
  project?: string;
  /** Config values of this project's namespace, keyed without the namespace prefix. */
  values: Readonly<Record<string, string>>;
  /** Keys (without prefix) whose value was stored with `--secret`. */
  secretKeys: ReadonlySet<string>;
  /** Directory that relative paths (chart, CRD file) are resolved against: the project root. */
  baseDir: string;
}

export type ConfigResult =
  { ok: true; config: StackConfig; warnings: string[] } | { ok: false; problems: ConfigProblem[]; warnings: string[] };

/** Every key this program reads, with a one-line description; any other key in the namespace is refused. */
export const CONFIG_KEYS: Readonly<Record<string, string>> = {
  role: "combined | platform | app",
  platformStack: "app stacks: the platform stack, <org>/<project>/<stack>",
  namespaceLabels: "app stacks: extra labels on the app namespace (JSON object)",
  routeNamespaces: "platform stacks: namespaces the ReferenceGrant records (JSON list)",
  protectGateway: "platform stacks: protect the Gateway and its namespace from pulumi destroy",
  mode: "reference | creation",
  allowCreationModeOnProd: "allow the creation pattern on the prod stack",
  hostname: "public host name of the MCP server",
  https: "serve HTTPS on 443 (default true; false needs allowPlaintextHttp)",
  allowPlaintextHttp:
    "serve the MCP endpoint on plain HTTP (port 80) too: the bearer token and every tool call cross the network in clear",
  agentAccess: "what the dot-ai agent may do in the cluster: chart | read | read-write-namespaces",
  agentWriteNamespaces: "with agentAccess read-write-namespaces: the namespaces the agent may write in (JSON list)",
  domain: "domain of the wildcard certificate (reference pattern)",
  gatewayClassName: "GatewayClass of the Gateway",
  gatewayName: "name of the shared Gateway",
  gatewayNamespace: "namespace of the shared Gateway",
  allowedRoutes: "which namespaces may attach routes to the shared Gateway",
  clusterIssuer: "cert-manager ClusterIssuer",
  tlsSecretName: "Secret holding the TLS certificate",
  waitForCertificate: "wait for the Certificate to be Ready",
  waitForGateway: "wait for the Gateway (the shared one, or the chart's) to be Programmed",
  waitTimeout: "how long each of those waits may take (Gateway API duration)",
  gatewayAnnotations: "extra annotations on the chart-created Gateway (JSON object)",
  installCrds: "install the Gateway API CRDs",
  gatewayApiVersion: "Gateway API release of the CRDs (with installCrds false: the cluster's)",
  gatewayApiCrdsFile: "local CRD manifest instead of the release URL",
  retainCrds: "keep the CRDs when the stack is destroyed",
  namespace: "namespace of dot-ai",
  releaseName: "Helm release name",
  chart: "chart reference, local chart directory or packaged chart (.tgz)",
  chartVersion: "chart version",
  aiProvider: "the chart's ai.provider",
  aiModel: "the chart's ai.model",
  qdrantUrl: "external Qdrant URL instead of the bundled one",
  requestTimeout: "HTTPRoute request timeout",
  backendRequestTimeout: "HTTPRoute backend request timeout",
  tokenRotation: "change to generate a new auth token",
  migrateFrom: "a dot-ai release installed outside this program to take over, <namespace>/<release>",
  migrationPhase: "with migrateFrom: both (Ingress and a bridge HTTPRoute) | gateway (the chart's HTTPRoute only)",
  ...Object.fromEntries(
    API_KEY_PROVIDERS.map((p) => [apiKeyConfigKey(p), `${p} credential (secret; chart secrets.${p})`]),
  ),
};

/** The stack setting that holds the credential of a chart `secrets` entry. */
export function apiKeyConfigKey(entry: ApiKeyProvider): string {
  return SECRET_ENTRIES[entry].configKey;
}

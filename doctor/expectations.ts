/**
 * What the stack says should be in the cluster, from its configuration (validated by the program's
 * own `parseConfig`, so the defaults are the program's) and its outputs. Pure: the Pulumi CLI is
 * read elsewhere (stack.ts).
 */
import * as semver from "semver";

import {
  AUTH_KEY_NAME,
  SECRETS_NAME,
  SECRET_ENTRIES,
  SERVICE_PORT,
  authKeyRequired,
  chartDeployments,
  chartFullname,
  qdrantClaimName,
  qdrantStatefulSetName,
  bridgeRouteName,
} from "../components/chart-contract";
import type { ConfigResult } from "../stacks/config";

/** The annotation external-dns reads on the chart's Gateway. */
export const EXTERNAL_DNS_ANNOTATION = "external-dns.alpha.kubernetes.io/hostname";

export type Role = "combined" | "platform" | "app";

/** Who can fix the Gateway: this stack's own `pulumi up`, the chart (through this stack), or another team. */
export type GatewayOwner = "stack" | "chart" | "platform";

export interface GatewayExpectations {
  name: string;
  namespace: string;
  /** The class the stack configured; for an app stack the Gateway's own spec says. */
  className?: string;
  owner: GatewayOwner;
  /** The platform stack that owns the Gateway, when an app stack names one. */
  platformStack?: string;
}

export interface AppExpectations {
  namespace: string;
  releaseName: string;
  chartVersion: string;
  routeName: string;
  serviceName: string;
  servicePort: number;
  /** The chart's Deployments for this version. */
  deployments: string[];
  secretName: string;
  /** Every key the chart is told to read from the Secret. */
  secretKeys: string[];
  authKey: string;
  /** Whether the Deployment refuses to start without the auth key (chart 1.6.0+). */
  authKeyRequired: boolean;
  timeouts: { request: string; backendRequest: string };
  /** The bundled Qdrant; absent with an external one (`qdrantUrl`). */
  qdrant?: { claimName: string; statefulSet: string };
  /** The creation pattern annotates the chart's Gateway for external-dns. */
  externalDnsHostname?: string;
}

export interface Expectations {
  stack: string;
  role: Role;
  mode: "reference" | "creation";
  /** The public host name ("" on a platform stack). */
  hostname: string;
  https: boolean;
  /** The stack said `allowPlaintextHttp`: the endpoint may be served on a plain-HTTP listener. */
  plaintextHttp: boolean;
  url?: string;
  /** The Gateway API bundle the stack installs, when it installs one. */
  gatewayApiVersion?: string;
  gateway: GatewayExpectations;
  /** The Secret the HTTPS listener serves, when the stack knows it (else read from the Gateway). */
  tls?: { secretName?: string; namespace: string; clusterIssuer?: string };
  /** Absent on a platform stack, which deploys no dot-ai. */
  app?: AppExpectations;
  /** SHA-256 (hex) of the `authToken` output; never the token itself. */
  authTokenDigest?: string;
}

/** The stack outputs doctor reads (`pulumi stack output --json`), the token already digested. */
export interface StackOutputsRead {
  role?: string;
  mode?: string;
  platformStack?: string;
  gatewayName?: string;
  gatewayNamespace?: string;
  gatewayAddress?: string;
  url?: string;
  authTokenDigest?: string;
}

/** Problems that keep doctor from knowing what to expect, with their fixes. */
export interface ExpectationProblem {
  problem: string;
  fix: string;
}

export type ExpectationsResult =
  { ok: true; expectations: Expectations } | { ok: false; problems: ExpectationProblem[] };

/**
 * Combines the parsed configuration with the outputs. The configuration says what the program
 * deploys; the outputs confirm that a deployment happened and carry what config alone cannot
 * (an app stack's Gateway, read from its platform stack).
 */
export function expectationsFrom(stack: string, config: ConfigResult, outputs: StackOutputsRead): ExpectationsResult {
  if (!config.ok) {
    return {
      ok: false,
      problems: config.problems.map((p) => ({ problem: `dot-ai-gateway:${p.key} ${p.problem}`, fix: p.fix })),
    };
  }
  if (outputs.gatewayName === undefined || outputs.gatewayNamespace === undefined) {
    return {
      ok: false,
      problems: [
        {
          problem: `stack ${stack} has no outputs: it was never deployed, or its last update failed before the end`,
          fix: `pulumi up --stack ${stack}`,
        },
      ],
    };
  }
  const c = config.config;
  // The role discriminant arrived with platform/app stacks; older configs are combined.
  const role: Role = (c as { role?: Role }).role ?? "combined";
  const mode = c.mode;
  const hostname = "hostname" in c ? c.hostname : "";
  const shared = "sharedGateway" in c ? c.sharedGateway : undefined;
  const created = "createdGateway" in c ? c.createdGateway : undefined;
  // The url says it for a stack with dot-ai; a platform stack has no url, its Gateway config says.
  const https = outputs.url !== undefined ? outputs.url.startsWith("https://") : (shared ?? created)?.tls !== undefined;
  const owner: GatewayOwner = role === "app" ? "platform" : mode === "creation" ? "chart" : "stack";
  const gateway: GatewayExpectations = {
    name: outputs.gatewayName,
    namespace: outputs.gatewayNamespace,
    className: shared?.className ?? created?.className,
    owner,
    ...(outputs.platformStack ? { platformStack: outputs.platformStack } : {}),
  };

  let tls: Expectations["tls"];
  if (https) {
    if (shared?.tls)
      tls = { secretName: shared.tls.secretName, namespace: shared.namespace, clusterIssuer: shared.tls.clusterIssuer };
    else if (created?.tls)
      tls = {
        secretName: created.tls.secretName,
        namespace: gateway.namespace,
        clusterIssuer: created.tls.clusterIssuer,
      };
    else tls = { namespace: gateway.namespace };
  }

  const crds = "crds" in c ? c.crds : undefined;
  const app = "app" in c ? appExpectations(c.app, created ? hostname : undefined) : undefined;
  return {
    ok: true,
    expectations: {
      stack,
      role,
      mode,
      hostname,
      https,
      // Older configs (from before the key) served plain HTTP as they were told.
      plaintextHttp: "plaintextHttp" in c ? c.plaintextHttp : (shared?.plaintextHttp ?? !https),
      ...(outputs.url !== undefined ? { url: outputs.url } : {}),
      ...(crds?.install ? { gatewayApiVersion: crds.version } : {}),
      gateway,
      ...(tls ? { tls } : {}),
      ...(app ? { app } : {}),
      ...(outputs.authTokenDigest ? { authTokenDigest: outputs.authTokenDigest } : {}),
    },
  };
}

interface AppSettings {
  namespace: string;
  releaseName: string;
  chartVersion: string;
  apiKeyProviders: readonly (keyof typeof SECRET_ENTRIES)[];
  qdrantUrl?: string;
  timeouts: { request: string; backendRequest: string };
  /** A release being moved from Ingress (`migrateFrom`): in phase `both` the bridge route serves. */
  migration?: { phase: "both" | "gateway" };
}

function appExpectations(app: AppSettings, externalDnsHostname: string | undefined): AppExpectations {
  const fullname = chartFullname(app.releaseName);
  const version = semver.valid(app.chartVersion) ?? "0.0.0";
  return {
    namespace: app.namespace,
    releaseName: app.releaseName,
    chartVersion: app.chartVersion,
    // While the release's Ingress still serves, the program's bridge route is the Gateway path.
    routeName: app.migration?.phase === "both" ? bridgeRouteName(fullname) : fullname,
    serviceName: fullname,
    servicePort: SERVICE_PORT,
    deployments: chartDeployments(version, app.releaseName),
    secretName: SECRETS_NAME,
    secretKeys: [AUTH_KEY_NAME, ...app.apiKeyProviders.map((p) => SECRET_ENTRIES[p].keyName)],
    authKey: AUTH_KEY_NAME,
    authKeyRequired: authKeyRequired(version),
    timeouts: app.timeouts,
    ...(app.qdrantUrl === undefined
      ? { qdrant: { claimName: qdrantClaimName(app.releaseName), statefulSet: qdrantStatefulSetName(app.releaseName) } }
      : {}),
    ...(externalDnsHostname !== undefined ? { externalDnsHostname } : {}),
  };
}

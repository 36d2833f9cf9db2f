import * as pulumi from "@pulumi/pulumi";

import { MCP_INITIALIZE, chartFullname } from "../components/chart-contract";
import { AppStackConfig, CombinedConfig, PLATFORM_CONTRACT, PlatformStackConfig, StackConfig } from "./config";
import { PlatformOutputName } from "./config/platform";
import { Deployment } from "./deploy";

/** What a stack with dot-ai exports (role combined or app). */
export interface AppStackOutputs {
  /** Only on app stacks: combined stacks export what they always did. */
  role?: "app";
  /** Only on app stacks: the platform stack the Gateway came from. */
  platformStack?: string;
  mode: string;
  gatewayName: string;
  gatewayNamespace: string;
  gatewayAddress?: pulumi.Output<string>;
  url: string;
  /** `.mcp.json` content for MCP clients, with the bearer token: a secret. */
  mcpConfig: pulumi.Output<string>;
  /** The bearer token itself: a secret. */
  authToken: pulumi.Output<string>;
  /** Commands from the upstream guide, filled in, to check the deployment by hand. */
  verify: Record<string, string>;
}

/**
 * What a platform stack exports: the contract app stacks read through a StackReference
 * (`PLATFORM_OUTPUTS`), plus the address and commands for people.
 */
export type PlatformStackOutputs = Record<PlatformOutputName, unknown> & {
  mode: "reference";
  gatewayAddress: pulumi.Output<string>;
  protectGateway: boolean;
  verify: Record<string, string>;
};

export type StackOutputs = AppStackOutputs | PlatformStackOutputs;

export function stackOutputs(config: StackConfig, deployment: Deployment): StackOutputs {
  return config.role === "platform" ? platformOutputs(config, deployment) : appOutputs(config, deployment);
}

function platformOutputs(config: PlatformStackConfig, deployment: Deployment): PlatformStackOutputs {
  const shared = config.sharedGateway;
  const labels = deployment.platform?.routeNamespaceLabels ?? {};
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const gateway = `kubectl get gateway ${shared.name} -n ${shared.namespace}`;
  return {
    role: "platform",
    platformContract: PLATFORM_CONTRACT,
    mode: "reference",
    gatewayName: shared.name,
    gatewayNamespace: shared.namespace,
    gatewayAddress: deployment.gatewayAddress ?? pulumi.output("pending"),
    allowedRoutes: shared.allowedRoutes,
    routeNamespaceLabels: labels,
    https: shared.tls !== undefined,
    plaintextHttp: shared.plaintextHttp,
    // "" rather than undefined: Pulumi warns about undefined outputs, and app stacks read "" as none.
    certificateDomain: shared.tls?.domain ?? "",
    gatewayApiVersion: config.crds.version,
    protectGateway: config.protectGateway,
    verify: {
      doctor: doctorCommand(),
      gateway,
      attachedRoutes: `${gateway} -o jsonpath='{range .status.listeners[*]}{.name}={.attachedRoutes}{"\\n"}{end}'`,
      appNamespaces: selector
        ? `kubectl get namespaces -l ${selector}`
        : `kubectl get httproutes -A -o jsonpath='{range .items[?(@.spec.parentRefs[0].name=="${shared.name}")]}{.metadata.namespace}{"\\n"}{end}'`,
    },
  };
}

function appOutputs(config: CombinedConfig | AppStackConfig, deployment: Deployment): AppStackOutputs {
  const https = config.role === "app" ? (deployment.platformFacts?.https ?? true) : config.https;
  const url = `${https ? "https" : "http"}://${config.hostname}`;
  const app = deployment.app;
  if (!app) throw new Error("a stack with dot-ai deployed no DotAi component");
  const token = app.authToken;
  const mcpConfig = pulumi.secret(
    token.apply((t) =>
      JSON.stringify(
        { mcpServers: { "dot-ai": { url, transport: "http", headers: { Authorization: `Bearer ${t}` } } } },
        null,
        2,
      ),
    ),
  );
  const ns = config.app.namespace;
  return {
    ...(config.role === "app"
      ? {
          role: "app" as const,
          platformStack: config.platform.kind === "stack" ? config.platform.stack : "",
        }
      : {}),
    mode: config.mode,
    gatewayName: deployment.gatewayName,
    gatewayNamespace: deployment.gatewayNamespace,
    // Only where it is known: Pulumi warns about undefined outputs.
    ...(deployment.gatewayAddress ? { gatewayAddress: deployment.gatewayAddress } : {}),
    url,
    mcpConfig,
    authToken: token,
    verify: {
      doctor: doctorCommand(),
      gateway: `kubectl get gateway ${deployment.gatewayName} -n ${deployment.gatewayNamespace}`,
      route: `kubectl get httproute ${chartFullname(config.app.releaseName)} -n ${ns} -o yaml`,
      pods: `kubectl get pods -n ${ns}`,
      // An MCP session's first request; dot-ai answers it as an event stream (`event: message`).
      mcp: `curl -sS -N -H "Authorization: Bearer $(pulumi stack output authToken --show-secrets)" -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" -d '${MCP_INITIALIZE}' ${url}`,
      mcpConfig: "pulumi stack output mcpConfig --show-secrets > .mcp.json",
    },
  };
}

/** Every check below, and more, in one read-only command (doctor/, docs/troubleshooting.md). */
function doctorCommand(): string {
  return `npm run doctor -- ${pulumi.getStack()}`;
}

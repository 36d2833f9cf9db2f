import * as pulumi from "@pulumi/pulumi";

import { SSE_PATH, chartFullname } from "../components/chart-contract";
import { StackConfig } from "./config";
import { Deployment } from "./deploy";

export interface StackOutputs {
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

export function stackOutputs(config: StackConfig, deployment: Deployment): StackOutputs {
  const url = `${config.https ? "https" : "http"}://${config.hostname}`;
  const token = deployment.app.authToken;
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
    mode: config.mode,
    gatewayName: deployment.gatewayName,
    gatewayNamespace: deployment.gatewayNamespace,
    // Only where it is known: Pulumi warns about undefined outputs.
    ...(deployment.gatewayAddress ? { gatewayAddress: deployment.gatewayAddress } : {}),
    url,
    mcpConfig,
    authToken: token,
    verify: {
      gateway: `kubectl get gateway ${deployment.gatewayName} -n ${deployment.gatewayNamespace}`,
      route: `kubectl get httproute ${chartFullname(config.app.releaseName)} -n ${ns} -o yaml`,
      pods: `kubectl get pods -n ${ns}`,
      sse: `curl -N -H "Accept: text/event-stream" -H "Authorization: Bearer $(pulumi stack output authToken --show-secrets)" ${url}${SSE_PATH}`,
      mcpConfig: "pulumi stack output mcpConfig --show-secrets > .mcp.json",
    },
  };
}

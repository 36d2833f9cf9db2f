import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { waitForRouteAccepted } from "./await";
import { SERVICE_PORT } from "./chart-contract";
import { GATEWAY_API_GROUP } from "./gateway-api";

/** Where the bridge route attaches and what it serves. */
export interface BridgeRouteArgs {
  /** The app namespace, where the chart's Service is. */
  readonly namespace: pulumi.Input<string>;
  /** The route's name: next to the chart's, never the chart's own (Helm creates that one later). */
  readonly name: string;
  /** The chart's Service (the release's fullname). */
  readonly serviceName: string;
  readonly hostname: string;
  readonly gateway: { readonly name: string; readonly namespace: string };
  readonly timeouts: { readonly request: string; readonly backendRequest: string };
  /** How long `pulumi up` waits for the Gateway to accept the route. */
  readonly timeoutSeconds: number;
}

/**
 * The HTTPRoute the chart would render for this Gateway (PathPrefix `/` to its Service on 3456,
 * with the route timeouts SSE needs), as a resource of the program's: while an adopted release
 * still serves through its Ingress, it opens the Gateway path for the same host, so that DNS can
 * move before the Ingress goes (docs/migration.md). `pulumi up` waits until the Gateway accepts it.
 */
export function bridgeHttpRoute(
  name: string,
  args: BridgeRouteArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: `${GATEWAY_API_GROUP}/v1`,
      kind: "HTTPRoute",
      metadata: {
        name: args.name,
        namespace: args.namespace,
        annotations: waitForRouteAccepted(args.timeoutSeconds),
      },
      spec: bridgeRouteSpec(args),
    },
    opts,
  );
}

export function bridgeRouteSpec(args: Omit<BridgeRouteArgs, "namespace" | "name" | "timeoutSeconds">): object {
  return {
    parentRefs: [{ kind: "Gateway", name: args.gateway.name, namespace: args.gateway.namespace }],
    hostnames: [args.hostname],
    rules: [
      {
        matches: [{ path: { type: "PathPrefix", value: "/" } }],
        backendRefs: [{ name: args.serviceName, port: SERVICE_PORT }],
        timeouts: { request: args.timeouts.request, backendRequest: args.timeouts.backendRequest },
      },
    ],
  };
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { AllowedRoutesFrom, GATEWAY_API_GROUP } from "./gateway-api";
import { dependenciesOf, ownRegistration } from "./names";

/** A Gateway listener, as much of Gateway API v1's `Listener` as this Gateway sets. */
export interface GatewayListener {
  name: string;
  protocol: "HTTP" | "HTTPS";
  port: number;
  hostname?: string;
  tls?: {
    mode: "Terminate";
    certificateRefs: { group: ""; kind: "Secret"; name: pulumi.Input<string> }[];
  };
  allowedRoutes: {
    namespaces: { from: AllowedRoutesFrom; selector?: { matchLabels: Record<string, string> } };
  };
}

/**
 * An HTTPS listener on 443 terminating TLS with `secretName`, written as the API server holds it
 * (certificateRefs defaulted to group ""): the shared Gateway's, and the chart's as it renders it.
 */
export function httpsListener(args: {
  secretName: pulumi.Input<string>;
  allowedRoutes: GatewayListener["allowedRoutes"];
  hostname?: string;
}): GatewayListener {
  return {
    name: "https",
    protocol: "HTTPS",
    port: 443,
    ...(args.hostname ? { hostname: args.hostname } : {}),
    tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: args.secretName }] },
    allowedRoutes: args.allowedRoutes,
  };
}

/** The shared Gateway's plain-HTTP listener. */
export const HTTP_LISTENER = "http";
/**
 * The port-80 listener the program adds to the chart's Gateway: not `http`, the chart's own
 * listener's name. With `allowPlaintextHttp` the chart renders `http` itself, and a listener of the
 * same name would be one entry owned by two field managers, whose deletion would take the chart's
 * fields that Helm's update left untouched (name, port, protocol, hostname) with it.
 */
export const REDIRECT_LISTENER = "http-redirect";

/**
 * 301 is in every implementation's core support (303/307/308 are extended); MCP clients are given
 * the https:// URL, so the redirect is for people and stale configurations, which it points to HTTPS
 * instead of serving them in clear.
 */
export const REDIRECT_STATUS = 301;

export interface HttpsRedirectRouteArgs {
  /** Where the route lives: a namespace the listener admits and no application route is in. */
  readonly namespace: pulumi.Input<string>;
  /** The route's own name. */
  readonly routeName: string;
  /** The Gateway whose plain-HTTP listener the route attaches to. */
  readonly gateway: { readonly name: string; readonly namespace: pulumi.Input<string> };
  /** That listener's name. */
  readonly sectionName: string;
  /**
   * The hosts it redirects.
   * @default [] (every host the listener serves)
   */
  readonly hostnames?: readonly string[];
}

/**
 * The only route on a plain-HTTP listener: every request is answered with a redirect to the same
 * host and path over HTTPS, so nothing but that answer crosses port 80.
 */
export function httpsRedirectRoute(
  name: string,
  args: HttpsRedirectRouteArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: `${GATEWAY_API_GROUP}/v1`,
      kind: "HTTPRoute",
      metadata: { name: args.routeName, namespace: args.namespace },
      spec: {
        parentRefs: [
          {
            group: GATEWAY_API_GROUP,
            kind: "Gateway",
            name: args.gateway.name,
            namespace: args.gateway.namespace,
            sectionName: args.sectionName,
          },
        ],
        ...(args.hostnames?.length ? { hostnames: [...args.hostnames] } : {}),
        rules: [
          { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: REDIRECT_STATUS } }] },
        ],
      },
    },
    opts,
  );
}

/** The label every namespace carries with its own name (Kubernetes 1.22+), for a selector of exactly one. */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export interface ChartGatewayHttpsRedirectArgs {
  /** The Gateway the chart created (`<fullname>-http`, in the release's namespace). */
  readonly gateway: { readonly name: string; readonly namespace: pulumi.Input<string> };
  /** The host the chart's HTTPS listener serves; port 80 answers for it alone. */
  readonly hostname: string;
  /** The Secret the chart's HTTPS listener serves (see the listeners below for why it is needed). */
  readonly tlsSecretName: string;
  /** A namespace of its own for the redirect route (created here); see the class comment. */
  readonly redirectNamespace: string;
  /**
   * The chart version: an upgrade can rewrite the Gateway's whole listener list (Helm's merge patch
   * replaces it), dropping the one added here, so the patch must be applied again after it, as it
   * is when the hostname or the TLS Secret changes.
   */
  readonly chartVersion: string;
}

/**
 * Port 80 of the chart's Gateway (creation pattern), only redirecting to HTTPS.
 *
 * The chart cannot do this itself: its listeners admit routes from their own namespace, and its
 * HTTPRoute names no listener, so it attaches to every listener of the Gateway, a port-80 one
 * included. So the chart renders the HTTPS listener only, and this component adds, by a server-side
 * apply patch of its own field manager, a port-80 listener that admits routes from one other
 * namespace only, where the redirect route is the only route.
 */
export class ChartGatewayHttpsRedirect extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly listener: k8s.apiextensions.CustomResourcePatch;
  public readonly route: k8s.apiextensions.CustomResource;

  constructor(name: string, args: ChartGatewayHttpsRedirectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dot-ai-gateway:https-redirect:ChartGatewayHttpsRedirect", name, {}, ownRegistration(opts));
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.redirectNamespace } },
      { parent: this },
    );
    this.listener = new k8s.apiextensions.CustomResourcePatch(
      `${name}-listener`,
      {
        apiVersion: `${GATEWAY_API_GROUP}/v1`,
        kind: "Gateway",
        metadata: {
          name: args.gateway.name,
          namespace: args.gateway.namespace,
          // No patchForce: a forced apply would take over any field whose value differs from the
          // chart's, and deleting the patch would then remove it from the chart's listener (an
          // HTTPS listener without certificateRefs, which the API server refuses). A conflict
          // fails loudly instead.
          annotations: { [CHART_LISTENERS_ANNOTATION]: args.chartVersion },
        },
        spec: {
          // The chart's HTTPS listener exactly as the API server holds it (the chart's rendering,
          // defaulted: certificateRefs carry group ""), then ours: Pulumi diffs a patch against the
          // live list item by item, so a patch of port 80 alone against the live [https, http]
          // would show a change on every preview. With equal values the two field managers own the
          // HTTPS listener together, and deleting this patch removes only port 80.
          listeners: [
            httpsListener({
              secretName: args.tlsSecretName,
              hostname: args.hostname,
              allowedRoutes: { namespaces: { from: "Same" } },
            }),
            {
              name: REDIRECT_LISTENER,
              protocol: "HTTP",
              port: 80,
              hostname: args.hostname,
              allowedRoutes: {
                namespaces: {
                  from: "Selector",
                  selector: { matchLabels: { [NAMESPACE_NAME_LABEL]: args.redirectNamespace } },
                },
              },
            },
          ] satisfies GatewayListener[],
        },
      },
      // What the component was told to wait for: the release that creates the Gateway.
      { parent: this, dependsOn: dependenciesOf(opts) },
    );
    this.route = httpsRedirectRoute(
      `${name}-route`,
      {
        namespace: this.namespace.metadata.name,
        routeName: `${args.gateway.name}-https-redirect`,
        gateway: args.gateway,
        sectionName: REDIRECT_LISTENER,
        hostnames: [args.hostname],
      },
      { parent: this, dependsOn: [this.listener] },
    );
    this.registerOutputs({});
  }
}

/** On the chart's Gateway, the chart version its port-80 listener was last added for (see `chartVersion`). */
export const CHART_LISTENERS_ANNOTATION = "dot-ai-gateway/http-listener-for";

/**
 * MCP endpoint never on a plain-HTTP listener (mandatory), unless the pack's config opts in with
 * `allowPlaintextHttp: true`.
 *
 * Why: every MCP request carries the bearer token in its Authorization header, and the answers
 * carry cluster data. On port 80 anyone on the path reads the token and can then drive an agent
 * that writes to the cluster. dot-ai's HTTPRoute names its Gateway without a `sectionName`, so it
 * attaches to EVERY listener of that Gateway that admits its namespace, the plain-HTTP one
 * included: serving HTTPS next to HTTP does not help. A plain-HTTP listener is safe only when it
 * admits no namespace a dot-ai route lives in, and the routes it does carry only redirect to https.
 *
 * Per resource (before anything is deployed):
 * - a dot-ai release that has the chart create its own Gateway with the HTTP listener on (the
 *   chart's default; its listeners admit the release's own namespace);
 * - a Gateway (or GatewayPatch) with a plain-HTTP listener that admits routes from `All` namespaces.
 * Across the stack (what one resource cannot tell):
 * - a plain-HTTP listener whose `Selector` (or `Same`) admits the namespace of a dot-ai release
 *   whose route attaches to that Gateway;
 * - on a stack without a dot-ai release (a platform stack), a plain-HTTP listener whose `Selector`
 *   admits other namespaces: app stacks' routes would attach to it;
 * - an HTTPRoute attached (by `sectionName`) to a plain-HTTP listener that forwards to backends
 *   instead of only redirecting to https.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { helmTruthy, isDotAiRelease, knownValues, releaseNamespace, routeParent } from "./lib/dot-ai";
import {
  GatewayModel,
  Listener,
  NAMESPACE_NAME_LABEL,
  admits,
  describeListener,
  gatewayKey,
  gatewaysOf,
  isPlainHttp,
  listenersOf,
  namespaceLabels,
} from "./lib/gateway";
import { Res, isGatewayLike, isHttpRoute, objectName, resourceValidation, stackValidation } from "./lib/resources";
import { Json, UNKNOWN, asArray, asString, at, isObject } from "./lib/values";

export const NAME = "mcp-no-plaintext-http";

const OPT_IN = `or, if plain HTTP is really meant, set allowPlaintextHttp: true for ${NAME} in the policy pack config (--policy-pack-config)`;

function optedIn(config: Record<string, unknown>): boolean {
  return config.allowPlaintextHttp === true;
}

/** The chart's Gateway (creation pattern) gets a plain-HTTP listener unless the values turn it off. */
function checkRelease(res: Res, report: (message: string) => void): void {
  if (!isDotAiRelease(res)) return;
  const values = knownValues(res);
  if (values === UNKNOWN || values === undefined) return;
  const create = at(values, "gateway", "create");
  if (create === UNKNOWN || !helmTruthy(create)) return;
  const http = at(values, "gateway", "listeners", "http", "enabled");
  if (http === UNKNOWN) return;
  // The chart's default is true: a missing value means the listener is on.
  if (http === undefined || helmTruthy(http)) {
    report(
      "The dot-ai chart creates its own Gateway (gateway.create) with its plain-HTTP listener on port 80 " +
        "(gateway.listeners.http.enabled is " +
        (http === undefined ? "not set, and the chart's default is true" : JSON.stringify(http)) +
        "); that listener admits the release's namespace, so the MCP endpoint and its bearer token are served in clear. " +
        `Set gateway.listeners.http.enabled: false and serve HTTPS (gateway.listeners.https), ${OPT_IN}.`,
    );
  }
}

function checkGatewayResource(res: Res, report: (message: string) => void): void {
  if (!isGatewayLike(res.type)) return;
  for (const listener of listenersOf(res.props)) {
    if (isPlainHttp(listener) && listener.from === "All") {
      report(
        `${describeListener(listener)} admits routes from All namespaces: dot-ai's HTTPRoute, which names its Gateway ` +
          "without a sectionName, attaches to it wherever it lives and serves the MCP endpoint in clear. " +
          `Admit only the Gateway's own namespace (allowedRoutes.namespaces.from: Same) and redirect to https there, ${OPT_IN}.`,
      );
    }
  }
}

interface ReleaseRoute {
  urn: string;
  namespace: string;
  parent: ReturnType<typeof routeParent>;
}

/** Whether the release's HTTPRoute may attach to `gateway` (`undefined`: it cannot be told at preview). */
function attachesTo(route: ReleaseRoute, gateway: GatewayModel): boolean | undefined {
  const parent = route.parent;
  if (parent.kind === "none") return false;
  if (parent.kind === "unknown") return undefined;
  if (parent.namespace !== gateway.namespace) return false;
  return parent.name === UNKNOWN ? undefined : parent.name === gateway.name;
}

/** A Selector that admits nothing but the Gateway's own namespace, like `Same`. */
function onlyOwnNamespace(listener: Listener, gatewayNamespace: string): boolean {
  const selector = listener.selector;
  if (!isObject(selector) || asArray(at(selector, "matchExpressions")).length > 0) return false;
  const matchLabels = at(selector, "matchLabels");
  return isObject(matchLabels) && matchLabels[NAMESPACE_NAME_LABEL] === gatewayNamespace;
}

function forwardsToBackends(route: Res): boolean {
  return asArray(at(route.props, "spec", "rules")).some((rule: Json) => asArray(at(rule, "backendRefs")).length > 0);
}

function checkStack(resources: Res[], report: (message: string, urn?: string) => void): void {
  const gateways = gatewaysOf(resources);
  const labelsOf = namespaceLabels(resources);
  const routes: ReleaseRoute[] = [];
  for (const r of resources) {
    if (!isDotAiRelease(r)) continue;
    const namespace = releaseNamespace(r);
    if (namespace !== UNKNOWN) routes.push({ urn: r.urn, namespace, parent: routeParent(r) });
  }
  const platformOnly = !resources.some(isDotAiRelease);

  for (const gateway of gateways.values()) {
    for (const { listener, urn } of gateway.listeners) {
      // `All` is refused per resource, before deployment.
      if (!isPlainHttp(listener) || listener.from === "All") continue;
      if (platformOnly) {
        if (listener.from === "Selector" && !onlyOwnNamespace(listener, gateway.namespace)) {
          report(
            `Gateway ${gateway.namespace}/${gateway.name}: ${describeListener(listener)} admits routes from the namespaces ` +
              "its Selector matches. This stack has no dot-ai release: the Gateway is shared, and an app stack's dot-ai " +
              "HTTPRoute (no sectionName) in such a namespace attaches to it and serves the MCP endpoint in clear. " +
              `Admit only the Gateway's own namespace (from: Same) and redirect to https there, ${OPT_IN}.`,
            urn,
          );
        }
        continue;
      }
      for (const route of routes) {
        // An unknown route target at preview: any Gateway of the stack may be the one.
        if (attachesTo(route, gateway) === false) continue;
        if (admits(listener, gateway.namespace, route.namespace, labelsOf) !== true) continue;
        report(
          `Gateway ${gateway.namespace}/${gateway.name}: ${describeListener(listener)} admits routes from namespace ` +
            `'${route.namespace}' (allowedRoutes.namespaces.from: ${String(listener.from)}), where the dot-ai release's ` +
            "HTTPRoute lives; it names the Gateway without a sectionName, so it attaches to this listener and serves the " +
            "MCP endpoint in clear. Make the plain-HTTP listener admit only a namespace without application routes " +
            `(e.g. from: Same, with an https redirect route there), ${OPT_IN}.`,
          urn,
        );
      }
    }
  }

  for (const route of resources) {
    if (!isHttpRoute(route.type) || !forwardsToBackends(route)) continue;
    const { namespace } = objectName(route.props);
    if (typeof namespace !== "string") continue;
    for (const ref of asArray(at(route.props, "spec", "parentRefs"))) {
      const section = asString(at(ref, "sectionName"));
      const name = asString(at(ref, "name"));
      const kind = at(ref, "kind") ?? "Gateway";
      if (section === undefined || name === undefined || kind !== "Gateway") continue;
      const refNamespace = at(ref, "namespace") ?? namespace;
      if (typeof refNamespace !== "string") continue;
      const gateway = gateways.get(gatewayKey(refNamespace, name));
      const target = gateway?.listeners.find(({ listener }) => listener.name === section)?.listener;
      if (target && isPlainHttp(target)) {
        report(
          `HTTPRoute ${namespace}/${asString(at(route.props, "metadata", "name")) ?? route.name} attaches to the ` +
            `plain-HTTP ${describeListener(target)} of Gateway ${refNamespace}/${name} and forwards to backends: ` +
            `what it serves crosses port 80 in clear. A route on a plain-HTTP listener should only redirect to https ` +
            `(a RequestRedirect filter with scheme: https, no backendRefs), ${OPT_IN}.`,
          route.urn,
        );
      }
    }
  }
}

/** One policy, checked both per resource (before deployment) and across the stack. */
export const policy: ResourceValidationPolicy & StackValidationPolicy = {
  name: NAME,
  description:
    "The MCP endpoint (and its bearer token) is never served on a plain-HTTP listener without an explicit opt-in.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema: {
    properties: {
      allowPlaintextHttp: {
        type: "boolean",
        default: false,
        description:
          "Accept the MCP endpoint on plain HTTP (port 80): the bearer token then crosses the network in clear",
      },
    },
  },
  validateResource: resourceValidation(NAME, (res, config, report) => {
    if (optedIn(config)) return;
    checkRelease(res, report);
    checkGatewayResource(res, report);
  }),
  validateStack: stackValidation(NAME, (resources, config, report) => {
    if (optedIn(config)) return;
    checkStack(resources, report);
  }),
};

import { GATEWAY_API_GROUP } from "../../components/gateway-api";
import { timeoutsNote } from "../implementations";
import { parseGatewayDuration } from "../../stacks/validators";
import type { Expectations } from "../expectations";
import { gatewayOwnerFix, refreshFix } from "../fixes";
import {
  Condition,
  Gateway,
  HTTPRoute,
  Listener,
  ParentRef,
  RouteParentStatus,
  condition,
  conditionState,
  describeCondition,
  selectorMatches,
} from "../model";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "route";
const TITLE = "HTTPRoute";

/** Whether `ref` (in a route of `routeNamespace`) names the Gateway `name` in `namespace`. */
export function refersTo(ref: ParentRef, routeNamespace: string, name: string, namespace: string): boolean {
  return (
    (ref.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP &&
    (ref.kind ?? "Gateway") === "Gateway" &&
    ref.name === name &&
    (ref.namespace ?? routeNamespace) === namespace
  );
}

/** Whether a listener's `allowedRoutes.namespaces` admits a route from `routeNamespace`. */
export function namespaceAllowed(
  listener: Listener,
  gatewayNamespace: string,
  routeNamespace: string,
  namespaceLabels: Record<string, string>,
): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? "Same";
  if (from === "All") return true;
  if (from === "Same") return routeNamespace === gatewayNamespace;
  if (from === "Selector") return selectorMatches(listener.allowedRoutes?.namespaces?.selector ?? {}, namespaceLabels);
  return false;
}

/** Whether a listener admits HTTPRoutes at all (its protocol and `allowedRoutes.kinds`). */
export function kindAllowed(listener: Listener): boolean {
  const kinds = listener.allowedRoutes?.kinds;
  if (kinds && kinds.length > 0)
    return kinds.some((k) => k.kind === "HTTPRoute" && (k.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP);
  return listener.protocol === "HTTP" || listener.protocol === "HTTPS";
}

/** Whether one hostname (either may be a `*.` wildcard) matches another, as Gateway API intersects them. */
function hostnameMatches(listenerHost: string, routeHost: string): boolean {
  if (listenerHost === routeHost) return true;
  const suffix = (wildcard: string) => wildcard.slice(1); // ".example.com"
  if (listenerHost.startsWith("*.") && routeHost.startsWith("*."))
    return routeHost.endsWith(suffix(listenerHost)) || listenerHost.endsWith(suffix(routeHost));
  if (listenerHost.startsWith("*.")) return routeHost.endsWith(suffix(listenerHost));
  if (routeHost.startsWith("*.")) return listenerHost.endsWith(suffix(routeHost));
  return false;
}

/** Gateway API hostname intersection: a listener or route without hostnames matches any. */
export function hostnamesIntersect(listenerHostname: string | undefined, routeHostnames: readonly string[]): boolean {
  if (!listenerHostname || routeHostnames.length === 0) return true;
  return routeHostnames.some((h) => hostnameMatches(listenerHostname, h));
}

/** The listeners a parentRef selects by `sectionName` and `port`. */
function selectedListeners(gw: Gateway, ref: ParentRef): Listener[] {
  return gw.spec.listeners.filter(
    (l) =>
      (ref.sectionName === undefined || ref.sectionName === l.name) && (ref.port === undefined || ref.port === l.port),
  );
}

/**
 * The plain-HTTP listeners that admit the route (by sectionName/port, kind, namespace and hostname):
 * the chart's route names no listener, so every one of them serves dot-ai in clear.
 */
export function plaintextListeners(
  gw: Gateway,
  route: HTTPRoute,
  ref: ParentRef,
  namespaceLabels: Record<string, string>,
): Listener[] {
  const routeNs = route.metadata.namespace ?? "";
  return selectedListeners(gw, ref).filter(
    (l) =>
      l.protocol === "HTTP" &&
      kindAllowed(l) &&
      namespaceAllowed(l, gw.metadata.namespace ?? "", routeNs, namespaceLabels) &&
      hostnamesIntersect(l.hostname, route.spec.hostnames ?? []),
  );
}

interface Verdict {
  summary: string;
  cause: string;
  fix: string[];
}

/**
 * Doctor's own judgement of attachment, from the Gateway's spec and the namespace's labels, so a
 * cause is named even while the controller's status lags behind a change (or no controller runs).
 * Returns undefined when some listener admits the route.
 */
export function judgeAttachment(
  x: Expectations,
  gw: Gateway,
  route: HTTPRoute,
  ref: ParentRef,
  namespaceLabels: Record<string, string>,
): Verdict | undefined {
  const routeNs = route.metadata.namespace ?? "";
  const hostnames = route.spec.hostnames ?? [];
  const selected = selectedListeners(gw, ref);
  if (selected.length === 0) {
    return {
      summary: `parentRef selects no listener (sectionName ${ref.sectionName ?? "-"}, port ${ref.port ?? "-"}) — NoMatchingParent`,
      cause: `Gateway ${gw.metadata.name} has no listener named '${ref.sectionName ?? ""}'${ref.port ? ` on port ${ref.port}` : ""}; its listeners are ${gw.spec.listeners.map((l) => `${l.name}/${l.port}`).join(", ")}`,
      fix: [refreshFix(x)],
    };
  }
  const byKind = selected.filter(kindAllowed);
  const byNamespace = byKind.filter((l) => namespaceAllowed(l, gw.metadata.namespace ?? "", routeNs, namespaceLabels));
  if (byNamespace.length === 0) {
    const needs = byKind.map((l) => {
      const ns = l.allowedRoutes?.namespaces;
      const from = ns?.from ?? "Same";
      if (from !== "Selector") return `${l.name}: from ${from}`;
      const labels = Object.entries(ns?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
      return `${l.name}: namespaces labelled ${labels.join(",") || JSON.stringify(ns?.selector?.matchExpressions ?? [])}`;
    });
    const missing = new Map<string, string>();
    for (const l of byKind) {
      if (l.allowedRoutes?.namespaces?.from !== "Selector") continue;
      for (const [k, v] of Object.entries(l.allowedRoutes.namespaces.selector?.matchLabels ?? {}))
        if (namespaceLabels[k] !== v) missing.set(k, v);
    }
    const fix: string[] = [];
    if (missing.size > 0) {
      const labels = [...missing].map(([k, v]) => `${k}=${v}`).join(" ");
      fix.push(`kubectl label namespace ${routeNs} ${labels} --overwrite`);
      if (x.role !== "platform" && x.gateway.owner !== "chart") fix.push(refreshFix(x));
    } else {
      fix.push(
        x.gateway.owner === "platform"
          ? gatewayOwnerFix(x, `admit routes from namespace ${routeNs} (listener allowedRoutes)`)
          : "pulumi config set dot-ai-gateway:allowedRoutes Selector   # or All; then pulumi up",
      );
    }
    return {
      summary: `no listener admits routes from namespace ${routeNs} — NotAllowedByListeners`,
      cause:
        missing.size > 0
          ? `the listeners' allowedRoutes admit only namespaces labelled ${[...missing].map(([k, v]) => `${k}=${v}`).join(", ")}, and namespace ${routeNs} does not carry ${missing.size === 1 ? "that label" : "those labels"} (label removed or never applied)`
          : `the listeners admit routes only from other namespaces (${needs.join("; ")})`,
      fix,
    };
  }
  const byHost = byNamespace.filter((l) => hostnamesIntersect(l.hostname, hostnames));
  if (byHost.length === 0) {
    return {
      summary: `no listener hostname matches the route's hostnames — NoMatchingListenerHostname`,
      cause: `the route is for ${hostnames.join(", ")} but the admitting listeners serve ${byNamespace.map((l) => `${l.name}: ${l.hostname}`).join(", ")}`,
      fix: [
        x.gateway.owner === "platform"
          ? `pulumi config set dot-ai-gateway:hostname <a name under the listener's hostname>, or ${gatewayOwnerFix(x, "add a listener for the hostname")}`
          : "pulumi config set dot-ai-gateway:hostname <a name the listener serves>   # or change the listener; then pulumi up",
      ],
    };
  }
  return undefined;
}

/** The cause and fix of a route parent condition written by the controller. */
export function explainParentCondition(
  x: Expectations,
  route: HTTPRoute,
  c: Condition,
): { cause: string; fix: string[] } {
  const ns = route.metadata.namespace ?? "";
  const backends = (route.spec.rules ?? []).flatMap((r) => r.backendRefs ?? []);
  const backendList = backends.map((b) => `${b.namespace ?? ns}/${b.name}:${b.port ?? ""}`).join(", ");
  switch (c.reason) {
    case "NotAllowedByListeners":
      return {
        cause: "no listener of the Gateway admits routes from this namespace (allowedRoutes)",
        fix: [
          `kubectl get gateway ${x.gateway.name} -n ${x.gateway.namespace} -o yaml   # see listeners[].allowedRoutes`,
        ],
      };
    case "NoMatchingListenerHostname":
      return {
        cause: `no listener hostname intersects the route's hostnames (${(route.spec.hostnames ?? []).join(", ")})`,
        fix: ["pulumi config set dot-ai-gateway:hostname <a name the listener serves>   # then pulumi up"],
      };
    case "NoMatchingParent":
      return {
        cause: "the parentRef's sectionName or port matches no listener of the Gateway",
        fix: [refreshFix(x)],
      };
    case "BackendNotFound":
      return {
        cause: `a backend Service does not exist (${backendList})`,
        fix: [`kubectl get service -n ${ns}`, refreshFix(x)],
      };
    case "RefNotPermitted":
      return {
        cause: `a backend in another namespace (${backendList}) is referenced without a ReferenceGrant there that permits HTTPRoutes from ${ns}`,
        fix: [`create a ReferenceGrant in the backend's namespace: from HTTPRoute in ${ns}, to Service`],
      };
    case "InvalidKind":
      return { cause: `a backendRef is not a kind the controller supports (${backendList})`, fix: [refreshFix(x)] };
    case "UnsupportedValue":
      return {
        cause: `the controller does not support a value in the route: ${c.message ?? ""}`,
        fix: [refreshFix(x)],
      };
    default:
      return {
        cause: `the controller says ${c.type} ${describeCondition(c)}`,
        fix: [`kubectl describe httproute ${route.metadata.name} -n ${ns}`],
      };
  }
}

function sameDuration(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const ma = parseGatewayDuration(a);
  return ma !== undefined ? ma === parseGatewayDuration(b) : a === b;
}

export function checkRoute(x: Expectations, s: Snapshot, prior: ReadonlyMap<string, CheckResult>): CheckResult {
  const app = x.app;
  if (!app) return skip(ID, TITLE, "a platform stack deploys no dot-ai");
  if (prior.get("crds")?.status === "fail") return skip(ID, TITLE, "the Gateway API CRDs are missing (see crds)");
  const gw = s.gateway;
  if (!gw) return skip(ID, TITLE, `its Gateway ${x.gateway.namespace}/${x.gateway.name} does not exist (see gateway)`);
  const route = s.route;
  const where = `${app.namespace}/${app.routeName}`;
  if (!route) {
    return fail(
      ID,
      TITLE,
      `HTTPRoute ${where} does not exist`,
      "the chart renders it from gateway.name/gateway.namespace (or gateway.create); it was deleted by hand, or the release is not installed",
      [
        `helm list -n ${app.namespace}`,
        `helm upgrade ${app.releaseName} <the stack's chart> -n ${app.namespace} --reuse-values   # Helm re-creates missing objects of the release`,
      ],
    );
  }
  const routeNs = route.metadata.namespace ?? app.namespace;
  const refs = route.spec.parentRefs ?? [];
  const ref = refs.find((r) => refersTo(r, routeNs, x.gateway.name, x.gateway.namespace));
  if (!ref) {
    return fail(
      ID,
      TITLE,
      `parentRefs (${refs.map((r) => `${r.namespace ?? routeNs}/${r.name}`).join(", ") || "none"}) do not name Gateway ${x.gateway.namespace}/${x.gateway.name}`,
      "the route attaches elsewhere than the stack's Gateway: changed by hand, or the release was installed with other gateway values",
      [refreshFix(x)],
    );
  }

  const problems: Verdict[] = [];
  const labels = s.appNamespace?.metadata.labels ?? {};
  const own = judgeAttachment(x, gw, route, ref, labels);
  if (own) problems.push(own);

  const parent: RouteParentStatus | undefined = (route.status?.parents ?? []).find((p) =>
    refersTo(p.parentRef, routeNs, x.gateway.name, x.gateway.namespace),
  );
  if (!own) {
    if (!parent) {
      problems.push({
        summary: "no controller has written status for this parent",
        cause: `the controller of class ${gw.spec.gatewayClassName} has not judged the route yet (not running, or still working)`,
        fix: [`kubectl describe httproute ${route.metadata.name} -n ${routeNs}`],
      });
    } else {
      for (const type of ["Accepted", "ResolvedRefs"]) {
        const state = conditionState(parent.conditions, type, route.metadata.generation);
        if (state === "true") continue;
        const c = condition(parent.conditions, type);
        if (state === "stale" || !c) {
          problems.push({
            summary: `${type} not yet written for the current route`,
            cause: `${parent.controllerName} has not judged the latest change of the route yet`,
            fix: [
              `rerun doctor in a minute; if it persists: kubectl describe httproute ${route.metadata.name} -n ${routeNs}`,
            ],
          });
          continue;
        }
        const { cause, fix } = explainParentCondition(x, route, c);
        problems.push({ summary: `${type} ${describeCondition(c)}`, cause, fix });
      }
    }
  }

  const inClear = plaintextListeners(gw, route, ref, labels);
  if (inClear.length > 0 && !x.plaintextHttp) {
    const names = inClear.map((l) => `${l.name} (port ${l.port})`).join(", ");
    problems.push({
      summary: `plain-HTTP listener ${names} admits the route: the MCP endpoint is served in clear`,
      cause: `the route names no listener, so it attaches to every listener that admits its namespace; ${names} does, so the bearer token and every tool call can cross the network unencrypted, and the stack did not say allowPlaintextHttp`,
      fix: [
        x.gateway.owner === "platform"
          ? gatewayOwnerFix(x, `let port 80 admit only a redirect to HTTPS, not namespace ${routeNs}`)
          : refreshFix(x),
      ],
    });
  }

  const hostnames = route.spec.hostnames ?? [];
  if (x.hostname && !hostnames.includes(x.hostname)) {
    problems.push({
      summary: `hostnames ${hostnames.join(", ") || "(none)"} do not include ${x.hostname}`,
      cause:
        "the route answers for other names than the stack's hostname: changed by hand, or the release was installed with other values",
      fix: [refreshFix(x)],
    });
  }
  const rule = route.spec.rules?.[0];
  const t = rule?.timeouts;
  if (
    !sameDuration(t?.request, app.timeouts.request) ||
    !sameDuration(t?.backendRequest, app.timeouts.backendRequest)
  ) {
    problems.push({
      summary: `timeouts request ${t?.request ?? "unset"}/backendRequest ${t?.backendRequest ?? "unset"}, configured ${app.timeouts.request}/${app.timeouts.backendRequest}`,
      cause: "SSE sessions are cut after the route's timeouts; the route does not carry the configured ones",
      fix: [refreshFix(x)],
    });
  }
  const backend = (rule?.backendRefs ?? [])[0];
  if (!backend || backend.name !== app.serviceName || backend.port !== app.servicePort) {
    problems.push({
      summary: `backend ${backend ? `${backend.name}:${backend.port ?? ""}` : "(none)"}, expected ${app.serviceName}:${app.servicePort}`,
      cause: "the route does not send traffic to dot-ai's Service",
      fix: [refreshFix(x)],
    });
  }

  if (problems.length > 0) {
    return fail(
      ID,
      TITLE,
      `${where}: ${problems.map((p) => p.summary).join("; ")}`,
      problems.map((p) => p.cause).join("; "),
      [...new Set(problems.flatMap((p) => p.fix))],
    );
  }
  const note = timeoutsNote(s.gatewayClass?.spec.controllerName);
  return pass(
    ID,
    TITLE,
    `${where} Accepted and ResolvedRefs on ${x.gateway.namespace}/${x.gateway.name}, for ${hostnames.join(", ")}, timeouts ${t?.request}/${t?.backendRequest}${note ? " (not applied: see below)" : ""}`,
    note ? [note] : undefined,
  );
}

/**
 * Gateway API listeners and route admission, as the Gateway API spec defines them: a listener's
 * `allowedRoutes.namespaces.from` is `Same` (the default: the Gateway's namespace), `All`, or
 * `Selector` (namespaces whose labels match; every namespace carries
 * `kubernetes.io/metadata.name: <its name>`).
 */
import { Res, declaredLabels, isGatewayLike, objectName, TYPES } from "./resources";
import { Json, UNKNOWN, Unknown, asArray, asString, at, isObject } from "./values";

export interface Listener {
  name: string | undefined;
  protocol: string | Unknown | undefined;
  port: Json | undefined;
  /** `Same` when not set. */
  from: string | Unknown;
  selector: Json | undefined;
}

export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export function listenersOf(props: Json): Listener[] {
  return asArray(at(props, "spec", "listeners")).map((l) => {
    const from = at(l, "allowedRoutes", "namespaces", "from");
    const protocol = at(l, "protocol");
    return {
      name: asString(at(l, "name")),
      protocol: protocol === UNKNOWN ? UNKNOWN : asString(protocol),
      port: at(l, "port"),
      from: from === undefined ? "Same" : from === UNKNOWN ? UNKNOWN : (asString(from) ?? UNKNOWN),
      selector: at(l, "allowedRoutes", "namespaces", "selector"),
    };
  });
}

/** A plain-HTTP listener: protocol `HTTP` (HTTPS, TLS, TCP and UDP are not). */
export function isPlainHttp(listener: Listener): boolean {
  return typeof listener.protocol === "string" && listener.protocol.toUpperCase() === "HTTP";
}

export function describeListener(listener: Listener): string {
  const port = typeof listener.port === "number" ? `, port ${listener.port}` : "";
  return `listener '${listener.name ?? "(unnamed)"}' (${typeof listener.protocol === "string" ? listener.protocol : "?"}${port})`;
}

/**
 * Whether a Kubernetes LabelSelector matches `labels`: `true`, `false`, or `UNKNOWN` when it
 * cannot be told (an unknown value, or, with `complete` false, a requirement on a label other than
 * the namespace's name, which may be set outside the stack). An empty selector matches every namespace.
 */
export function selectorMatches(
  selector: Json | undefined,
  labels: Record<string, string>,
  complete: boolean,
): boolean | Unknown {
  // `from: Selector` without a selector is invalid; what an implementation does with it is not told.
  if (!isObject(selector)) return UNKNOWN;
  let result: boolean | Unknown = true;
  const requirement = (key: string, holds: (value: string | undefined) => boolean): void => {
    if (!complete && key !== NAMESPACE_NAME_LABEL) {
      // The namespace may carry labels set outside the stack: this requirement cannot be judged.
      if (result === true) result = UNKNOWN;
      return;
    }
    if (!holds(labels[key])) result = false;
  };
  const matchLabels = at(selector, "matchLabels");
  if (matchLabels === UNKNOWN) return UNKNOWN;
  if (isObject(matchLabels)) {
    for (const [key, want] of Object.entries(matchLabels)) {
      if (typeof want !== "string") return UNKNOWN;
      requirement(key, (value) => value === want);
    }
  }
  const expressions = at(selector, "matchExpressions");
  if (expressions === UNKNOWN) return UNKNOWN;
  for (const e of asArray(expressions)) {
    const key = asString(at(e, "key"));
    const operator = asString(at(e, "operator"));
    const values = asArray(at(e, "values")).filter((v): v is string => typeof v === "string");
    if (key === undefined || operator === undefined) return UNKNOWN;
    switch (operator) {
      case "In":
        requirement(key, (value) => value !== undefined && values.includes(value));
        break;
      case "NotIn":
        requirement(key, (value) => value === undefined || !values.includes(value));
        break;
      case "Exists":
        requirement(key, (value) => value !== undefined);
        break;
      case "DoesNotExist":
        requirement(key, (value) => value === undefined);
        break;
      default:
        return UNKNOWN;
    }
  }
  return result;
}

/** What the stack says of a namespace's labels: those a Namespace resource declares, or none but its name. */
export interface NamespaceLabels {
  labels: Record<string, string>;
  /** A Namespace resource of the stack declares them (otherwise labels set elsewhere are not seen). */
  complete: boolean;
}

export function namespaceLabels(resources: Res[]): (namespace: string) => NamespaceLabels {
  const declared = new Map<string, Record<string, string>>();
  for (const r of resources) {
    if (r.type !== TYPES.namespace) continue;
    const name = at(r.props, "metadata", "name");
    if (typeof name === "string") declared.set(name, declaredLabels(r.props));
  }
  return (namespace) => {
    const labels = declared.get(namespace);
    return {
      labels: { ...(labels ?? {}), [NAMESPACE_NAME_LABEL]: namespace },
      complete: labels !== undefined,
    };
  };
}

/** Whether `listener` of a Gateway in `gatewayNamespace` admits routes from `namespace`. */
export function admits(
  listener: Listener,
  gatewayNamespace: string,
  namespace: string,
  labelsOf: (namespace: string) => NamespaceLabels,
): boolean | Unknown {
  switch (listener.from) {
    case "All":
      return true;
    case "Same":
      return namespace === gatewayNamespace;
    case "Selector": {
      const { labels, complete } = labelsOf(namespace);
      return selectorMatches(listener.selector, labels, complete);
    }
    default:
      return UNKNOWN;
  }
}

/** A Gateway of the stack, with the listeners of every Gateway and GatewayPatch resource of that name. */
export interface GatewayModel {
  name: string;
  namespace: string;
  /** Each listener with the URN of the resource that declares it. */
  listeners: { listener: Listener; urn: string }[];
}

export function gatewaysOf(resources: Res[]): Map<string, GatewayModel> {
  const gateways = new Map<string, GatewayModel>();
  for (const r of resources) {
    if (!isGatewayLike(r.type)) continue;
    const { name, namespace } = objectName(r.props);
    if (typeof name !== "string" || typeof namespace !== "string") continue;
    const key = gatewayKey(namespace, name);
    const model = gateways.get(key) ?? { name, namespace, listeners: [] };
    for (const listener of listenersOf(r.props)) model.listeners.push({ listener, urn: r.urn });
    gateways.set(key, model);
  }
  return gateways;
}

export function gatewayKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

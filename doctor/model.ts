/**
 * The shapes doctor reads: plain JSON as the API server returns it, reduced to the fields the
 * checks look at. Tests build them by hand or from recorded objects; the cluster layer fills them
 * from @kubernetes/client-node. Nothing here carries a secret value.
 */

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface Metadata {
  name: string;
  namespace?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string | Date;
}

export interface KubeObject {
  metadata: Metadata;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface ObjectRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

export interface Listener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  allowedRoutes?: {
    namespaces?: { from?: string; selector?: LabelSelector };
    kinds?: { group?: string; kind: string }[];
  };
  tls?: { mode?: string; certificateRefs?: ObjectRef[] };
}

export interface ListenerStatus {
  name: string;
  attachedRoutes?: number;
  conditions?: Condition[];
}

export interface Gateway extends KubeObject {
  spec: { gatewayClassName: string; listeners: Listener[] };
  status?: { addresses?: { type?: string; value: string }[]; conditions?: Condition[]; listeners?: ListenerStatus[] };
}

export interface GatewayClass extends KubeObject {
  spec: { controllerName: string };
  status?: { conditions?: Condition[] };
}

export interface ParentRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  sectionName?: string;
  port?: number;
}

export interface RouteParentStatus {
  parentRef: ParentRef;
  controllerName: string;
  conditions?: Condition[];
}

export interface HTTPRoute extends KubeObject {
  spec: {
    parentRefs?: ParentRef[];
    hostnames?: string[];
    rules?: {
      backendRefs?: (ObjectRef & { port?: number })[];
      timeouts?: { request?: string; backendRequest?: string };
    }[];
  };
  status?: { parents?: RouteParentStatus[] };
}

export interface Certificate extends KubeObject {
  spec: { secretName: string; dnsNames?: string[]; issuerRef: { name: string; kind?: string; group?: string } };
  status?: { conditions?: Condition[]; notAfter?: string; renewalTime?: string };
}

/** A ClusterIssuer or Issuer: only its readiness matters here. */
export interface Issuer extends KubeObject {
  status?: { conditions?: Condition[] };
}

export interface Deployment extends KubeObject {
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    conditions?: Condition[];
  };
}

export interface StatefulSet extends KubeObject {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number };
}

/** Why a pod's container is not running, as `kubectl get pods` shows it (e.g. CreateContainerConfigError). */
export interface PodProblem {
  pod: string;
  reason: string;
  message?: string;
}

export interface EndpointSlice {
  endpoints?: { conditions?: { ready?: boolean | null } }[];
}

export interface Namespace extends KubeObject {
  status?: { phase?: string };
}

/** A Secret as doctor keeps it: its key names and, for the token, a digest, never a value. */
export interface SecretSummary {
  name: string;
  namespace: string;
  keys: string[];
  /** SHA-256 (hex) of one key's value, when that key exists: compared, never shown. */
  digests: Record<string, string>;
}

export interface CustomResourceDefinition extends KubeObject {
  spec: { names: { plural: string; kind: string } };
}

/** The condition `type` of `holder`, if written. */
export function condition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return (conditions ?? []).find((c) => c.type === type);
}

/**
 * The state of a condition for an object at `generation`: `stale` when the controller wrote it
 * for an older generation (it has not seen the latest change yet).
 */
export function conditionState(
  conditions: readonly Condition[] | undefined,
  type: string,
  generation?: number,
): "true" | "false" | "unknown" | "missing" | "stale" {
  const c = condition(conditions, type);
  if (!c) return "missing";
  if (c.observedGeneration !== undefined && generation !== undefined && c.observedGeneration < generation)
    return "stale";
  if (c.status === "True") return "true";
  if (c.status === "False") return "false";
  return "unknown";
}

/** "Reason: message" of a condition, for a cause line. */
export function describeCondition(c: Condition | undefined): string {
  if (!c) return "not set";
  return `${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ""})` : ""}`;
}

/** Whether labels satisfy a Kubernetes label selector (matchLabels and matchExpressions). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (values.length === 0 || !(has && values.includes(labels[e.key]))) return false;
        break;
      case "NotIn":
        if (values.length === 0 || (has && values.includes(labels[e.key]))) return false;
        break;
      case "Exists":
        if (values.length > 0 || !has) return false;
        break;
      case "DoesNotExist":
        if (values.length > 0 || has) return false;
        break;
      // The CRDs store any operator; Kubernetes refuses to build a selector from an expression it
      // does not know (or In/NotIn without values, Exists/DoesNotExist with some), and a
      // Gateway controller then admits nothing through it.
      default:
        return false;
    }
  }
  return true;
}

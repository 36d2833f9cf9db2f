/** What doctor read from the cluster, as plain objects; `null` means read and not found. */
import type { ClusterStorage } from "../cluster/storage-check";
import type {
  Certificate,
  CustomResourceDefinition,
  Deployment,
  EndpointSlice,
  Gateway,
  GatewayClass,
  HTTPRoute,
  Issuer,
  KubeObject,
  Namespace,
  PodProblem,
  SecretSummary,
  StatefulSet,
} from "./model";

/** A Secret the credentials in use may not read: what it holds is unknown, not absent. */
export const FORBIDDEN = "forbidden";

export interface TlsSnapshot {
  secretName: string;
  namespace: string;
  secret: SecretSummary | null | typeof FORBIDDEN;
  /** Whether cert-manager's Certificate kind is served at all. */
  certManager: boolean;
  /** The Certificate that writes the Secret (`spec.secretName`), if any. */
  certificate: Certificate | null;
  /** The Certificate's issuer, read when the Certificate is not Ready. */
  issuer?: Issuer | null;
}

export interface Snapshot {
  /** When the cluster was read (ms since the epoch): certificate expiry is counted from here. */
  readAt: number;
  /** The CRDs of the group gateway.networking.k8s.io. */
  crds: CustomResourceDefinition[];
  /** Undefined when no class name was known to look up. */
  gatewayClass?: GatewayClass | null;
  gateway: Gateway | null;
  appNamespace?: Namespace | null;
  route?: HTTPRoute | null;
  service?: KubeObject | null;
  /** The EndpointSlices of the chart's Service. */
  endpointSlices?: EndpointSlice[];
  tls?: TlsSnapshot;
  deployments?: Record<string, Deployment | null>;
  /** Containers that cannot start, per Deployment that is short of replicas. */
  podProblems?: Record<string, PodProblem[]>;
  qdrant?: { statefulSet: StatefulSet | null; storage: ClusterStorage };
  appSecret?: SecretSummary | null | typeof FORBIDDEN;
}

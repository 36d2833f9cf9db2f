/** What doctor read from the cluster, as plain objects; `null` means read and not found. */
import type { ClusterStorage } from "../cluster/storage-check";
import type * as model from "./model";

/** A Secret the credentials in use may not read: what it holds is unknown, not absent. */
export const FORBIDDEN = "forbidden";

export interface TlsSnapshot {
  secretName: string;
  namespace: string;
  secret: model.SecretSummary | null | typeof FORBIDDEN;
  /** Whether cert-manager's Certificate kind is served at all. */
  certManager: boolean;
  /** The Certificate that writes the Secret (`spec.secretName`), if any. */
  certificate: model.Certificate | null;
  /** The Certificate's issuer, read when the Certificate is not Ready. */
  issuer?: model.Issuer | null;
}

export interface Snapshot {
  /** When the cluster was read (ms since the epoch): certificate expiry is counted from here. */
  readAt: number;
  /** The CRDs of the group gateway.networking.k8s.io. */
  crds: model.CustomResourceDefinition[];
  /** Undefined when no class name was known to look up. */
  gatewayClass?: model.GatewayClass | null;
  gateway: model.Gateway | null;
  appNamespace?: model.Namespace | null;
  route?: model.HTTPRoute | null;
  service?: model.KubeObject | null;
  /** The EndpointSlices of the chart's Service. */
  endpointSlices?: model.EndpointSlice[];
  tls?: TlsSnapshot;
  deployments?: Record<string, model.Deployment | null>;
  /** Containers that cannot start, per Deployment that is short of replicas. */
  podProblems?: Record<string, model.PodProblem[]>;
  qdrant?: { statefulSet: model.StatefulSet | null; storage: ClusterStorage };
  appSecret?: model.SecretSummary | null | typeof FORBIDDEN;
}

/**
 * Reads what the checks need from the cluster with @kubernetes/client-node, read-only, through the
 * kubeconfig/context/cluster the stack's Kubernetes provider uses (as cluster/storage-check.ts does).
 * Secret values never leave this module: a Secret becomes its key names and one digest.
 */
import { GATEWAY_API_GROUP } from "../components/gateway-api";
import { ClusterSelection, loadClientLibrary, loadKubeConfig } from "../cluster/client";
import { readClusterStorage } from "../cluster/storage-check";
import { tlsSecretRef } from "./checks/tls";
import { gatewayClassName } from "./checks/gateway-class";
import type { Expectations } from "./expectations";
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
import { conditionState } from "./model";
import { FORBIDDEN, Snapshot, TlsSnapshot } from "./snapshot";
import { sha256 } from "./stack";

type K8s = typeof import("@kubernetes/client-node");

const CERT_MANAGER = { group: "cert-manager.io", version: "v1" };

/** The object, or null when the API server says 404. */
async function orNull<T>(k8s: K8s, read: Promise<unknown>): Promise<T | null> {
  try {
    return (await read) as T;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return null;
    throw error;
  }
}

type RawSecret = { metadata?: { name?: string; namespace?: string }; data?: Record<string, string> };

/** A Secret, null when absent, or FORBIDDEN when the credentials in use may not read Secrets there. */
async function readSecret(k8s: K8s, read: Promise<unknown>): Promise<RawSecret | null | typeof FORBIDDEN> {
  try {
    return await orNull<RawSecret>(k8s, read);
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 403) return FORBIDDEN;
    throw error;
  }
}

function secretSummary(
  secret: RawSecret | null | typeof FORBIDDEN,
  digestKeys: string[],
): SecretSummary | null | typeof FORBIDDEN {
  if (secret === FORBIDDEN || secret === null) return secret;
  const data = secret.data ?? {};
  const digests: Record<string, string> = {};
  for (const key of digestKeys) {
    if (data[key] !== undefined) digests[key] = sha256(Buffer.from(data[key], "base64").toString("utf8"));
  }
  return {
    name: secret.metadata?.name ?? "",
    namespace: secret.metadata?.namespace ?? "",
    keys: Object.keys(data),
    digests,
  };
}

export async function readSnapshot(x: Expectations, selection: ClusterSelection): Promise<Snapshot> {
  const k8s = await loadClientLibrary();
  const kc = loadKubeConfig(k8s, selection);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const gw = <T>(plural: string, name: string, namespace: string) =>
    orNull<T>(
      k8s,
      custom.getNamespacedCustomObject({ group: GATEWAY_API_GROUP, version: "v1", plural, namespace, name }),
    );

  const crdList = await ext.listCustomResourceDefinition();
  const crds = crdList.items
    .filter((c) => c.spec.group === GATEWAY_API_GROUP)
    .map((c) => c as unknown as CustomResourceDefinition);
  const served = new Set(crds.map((c) => c.metadata.name));
  const has = (plural: string) => served.has(`${plural}.${GATEWAY_API_GROUP}`);

  const gateway = has("gateways") ? await gw<Gateway>("gateways", x.gateway.name, x.gateway.namespace) : null;
  const className = gatewayClassName(x, { gateway });
  const app = x.app;
  const [gatewayClass, route, tls, appNamespace] = await Promise.all([
    className !== undefined && has("gatewayclasses")
      ? orNull<GatewayClass>(
          k8s,
          custom.getClusterCustomObject({
            group: GATEWAY_API_GROUP,
            version: "v1",
            plural: "gatewayclasses",
            name: className,
          }),
        )
      : Promise.resolve(undefined),
    app && has("httproutes") ? gw<HTTPRoute>("httproutes", app.routeName, app.namespace) : Promise.resolve(undefined),
    readTls(k8s, kc, x, gateway),
    app ? orNull<Namespace>(k8s, core.readNamespace({ name: app.namespace })) : Promise.resolve(undefined),
  ]);
  const snapshot: Snapshot = {
    readAt: Date.now(),
    crds,
    gateway,
    ...(gatewayClass !== undefined ? { gatewayClass } : {}),
    ...(route !== undefined ? { route } : {}),
    ...(tls ? { tls } : {}),
    ...(appNamespace !== undefined ? { appNamespace } : {}),
  };
  if (!app) return snapshot;

  const ns = app.namespace;
  const [deploymentList, service, slices, secret, qdrant] = await Promise.all([
    Promise.all(
      app.deployments.map((name) => orNull<Deployment>(k8s, apps.readNamespacedDeployment({ name, namespace: ns }))),
    ),
    orNull<KubeObject>(k8s, core.readNamespacedService({ name: app.serviceName, namespace: ns })),
    discovery.listNamespacedEndpointSlice({
      namespace: ns,
      labelSelector: `kubernetes.io/service-name=${app.serviceName}`,
    }),
    readSecret(k8s, core.readNamespacedSecret({ name: app.secretName, namespace: ns })),
    app.qdrant
      ? Promise.all([
          orNull<StatefulSet>(k8s, apps.readNamespacedStatefulSet({ name: app.qdrant.statefulSet, namespace: ns })),
          readClusterStorage(selection, ns, app.qdrant.claimName),
        ])
      : Promise.resolve(undefined),
  ]);
  const deployments: Record<string, Deployment | null> = {};
  app.deployments.forEach((name, i) => (deployments[name] = deploymentList[i]));

  // Why pods are missing, for Deployments short of replicas (e.g. a Secret key they cannot read).
  const podProblems: Record<string, PodProblem[]> = {};
  for (const [name, d] of Object.entries(deployments)) {
    const want = d?.spec?.replicas ?? 1;
    if (!d || want === 0 || (d.status?.availableReplicas ?? 0) >= want) continue;
    const selector = (d as Deployment & { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec
      ?.selector?.matchLabels;
    if (!selector) continue;
    const pods = await core.listNamespacedPod({
      namespace: ns,
      labelSelector: Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    });
    podProblems[name] = pods.items.flatMap((p) =>
      (p.status?.containerStatuses ?? [])
        .filter((c) => c.state?.waiting && c.state.waiting.reason !== "ContainerCreating")
        .map((c) => ({
          pod: p.metadata?.name ?? "",
          reason: c.state?.waiting?.reason ?? "Waiting",
          ...(c.state?.waiting?.message ? { message: c.state.waiting.message } : {}),
        })),
    );
  }

  return {
    ...snapshot,
    deployments,
    podProblems,
    service,
    endpointSlices: slices.items as unknown as EndpointSlice[],
    appSecret: secretSummary(secret, [app.authKey]),
    ...(qdrant ? { qdrant: { statefulSet: qdrant[0], storage: qdrant[1] } } : {}),
  };
}

async function readTls(
  k8s: K8s,
  kc: InstanceType<K8s["KubeConfig"]>,
  x: Expectations,
  gateway: Gateway | null,
): Promise<TlsSnapshot | undefined> {
  const ref = tlsSecretRef(x, gateway);
  if (!ref) return undefined;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const [secret, certificates] = await Promise.all([
    readSecret(k8s, core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace })),
    orNull<{ items: Certificate[] }>(
      k8s,
      custom.listNamespacedCustomObject({ ...CERT_MANAGER, plural: "certificates", namespace: ref.namespace }),
    ),
  ]);
  const certificate = certificates?.items.find((c) => c.spec.secretName === ref.name) ?? null;
  let issuer: Issuer | null | undefined;
  if (certificate && conditionState(certificate.status?.conditions, "Ready") !== "true") {
    const { name, kind } = certificate.spec.issuerRef;
    issuer =
      (kind ?? "Issuer") === "ClusterIssuer"
        ? await orNull<Issuer>(k8s, custom.getClusterCustomObject({ ...CERT_MANAGER, plural: "clusterissuers", name }))
        : await orNull<Issuer>(
            k8s,
            custom.getNamespacedCustomObject({ ...CERT_MANAGER, plural: "issuers", namespace: ref.namespace, name }),
          );
  }
  return {
    secretName: ref.name,
    namespace: ref.namespace,
    secret: secretSummary(secret, []),
    certManager: certificates !== null,
    certificate,
    ...(issuer !== undefined ? { issuer } : {}),
  };
}

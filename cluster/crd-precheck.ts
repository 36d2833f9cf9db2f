/**
 * Which Gateway API CRDs the cluster already has, read before anything is registered, and whether
 * this stack may install its bundle over them.
 *
 * The Gateway API CRDs are shared by the whole cluster, and on most clusters with a Gateway
 * controller someone else installed them already: the controller's chart, a GitOps tool or
 * `kubectl apply --server-side`. Registering our bundle over theirs went wrong two ways:
 *
 * - over a **newer** bundle it is a downgrade for every Gateway controller of the cluster. From
 *   v1.5 on the bundle's `safe-upgrades` admission policy makes the API server refuse most of
 *   those, halfway through `pulumi up` with a raw admission error; without the policy (or within a
 *   minor release, which the policy allows) nothing stopped it;
 * - over CRDs **another field manager** applied, even of the same release, server-side apply stops
 *   with "Server-Side Apply field conflict detected" (measured: after 6 s on a cluster where the
 *   v1.6.3 bundle was applied with `kubectl apply --server-side`).
 *
 * The rule (see `judgeGatewayApiCrds`): the stack installs or upgrades the bundle only when the
 * cluster has no Gateway API CRDs, or has them from this program (a `pulumi-kubernetes` field
 * manager) at the same or an older release. Otherwise it leaves the cluster's CRDs to whoever
 * manages them: with a warning naming both releases when they serve every kind and version the
 * stack creates, or, when they do not, it stops before registering anything, naming the fix.
 * Taking the CRDs over with a forced apply was rejected: the fields would then belong to this
 * stack, and their owner's next upgrade would conflict with us in turn.
 *
 * Leaving them out is safe for a stack that installed them before: the CRDs are registered with
 * `retainOnDelete`, so they leave the stack's state and stay in the cluster. With `retainCrds`
 * false they would be deleted, so that case stops instead.
 *
 * The cluster is read with four small GETs in parallel (CRD metadata only, API discovery of the
 * group's v1 and v1beta1, the admission policy's metadata), through the same `kubernetes:*` settings the
 * program's provider uses. If it cannot be read the program warns and installs as before.
 */
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";

import { HELM_OWNER, ManifestObject } from "../components/crds";
import { GATEWAY_API_GROUP, gatewayApiVersions } from "../components/gateway-api";
import { CONFIG_NAMESPACE, CrdConfig, gatewayApiCrdsUrl } from "../stacks/config";
import { BUNDLE_RELEASE } from "../stacks/bundle-chart";
import { PENDING_STATUSES, helmOwnerOf, revisionSecretName } from "./release-check";
import { userError } from "../stacks/errors";
import { ClusterSelection, PARTIAL_LIST, PARTIAL_OBJECT, clusterGet, clusterSelection, withTimeout } from "./client";

/** A Gateway API kind at the version the program will create it. */
export interface ApiNeed {
  kind: string;
  version: string;
}

export const BUNDLE_VERSION_ANNOTATION = "gateway.networking.k8s.io/bundle-version";
export const CHANNEL_ANNOTATION = "gateway.networking.k8s.io/channel";
export const SAFE_UPGRADES_POLICY = "safe-upgrades.gateway.networking.k8s.io";
/** pulumi-kubernetes names its server-side apply field managers `pulumi-kubernetes-<random>`. */
const PULUMI_FIELD_MANAGER = /^pulumi-kubernetes/;
/** Helm's statuses of a newest revision whose release holds its objects. */
const INSTALLED_STATUSES = ["deployed", "failed"];

/** A Gateway API CRD as the cluster holds it. */
export interface InstalledCrd {
  name: string;
  /** The Helm release that owns it (Helm's ownership annotations, with its `managed-by: Helm` label). */
  helmRelease?: HelmReleaseName;
  /** Its `gateway.networking.k8s.io/bundle-version` annotation, when it has one. */
  bundleVersion?: string;
  /** Its `gateway.networking.k8s.io/channel` annotation (`standard`, `experimental`). */
  channel?: string;
  /** Field managers of anything but its status. */
  managers: string[];
}

/** What the cluster holds of the Gateway API. */
export interface ClusterGatewayApi {
  /** The CustomResourceDefinitions of group gateway.networking.k8s.io. */
  crds: InstalledCrd[];
  /** The kinds the API server serves in that group, at the versions the stack needs. */
  served: ApiNeed[];
  /** The safe-upgrades ValidatingAdmissionPolicy, when present. */
  policy?: { bundleVersion?: string };
  /** The newest revision of this program's bundle release, when it exists. */
  bundleRelease?: { version: number; status: string };
}

export interface HelmReleaseName {
  name: string;
  namespace: string;
}

/** The bundle this stack would install. */
export interface WantedBundle {
  /** Its release (`gatewayApiVersion`, or the manifest's own bundle-version annotation). */
  version: string;
  /** The CRDs it contains. */
  crdNames: string[];
  /** The kinds and versions the stack creates, itself or through the chart. */
  needs: ApiNeed[];
  /** retainCrds. */
  retainOnDelete: boolean;
  /** The release the bundle is installed as. */
  release: HelmReleaseName;
}

export type CrdDecision =
  | {
      action: "install";
      reason: string;
      /** CRDs in the cluster the release takes over (see `GatewayApiCrdsArgs.adopt`). */
      adopt: string[];
      /** The release exists: import it (see `GatewayApiCrdsArgs.importRelease`). */
      importRelease: boolean;
    }
  | { action: "skip"; warning: string }
  | { action: "refuse"; problem: string; fixes: string[] };

/** Decides, from what the cluster holds, whether the stack installs its Gateway API bundle. */
export function judgeGatewayApiCrds(want: WantedBundle, cluster: ClusterGatewayApi): CrdDecision {
  const release = cluster.bundleRelease;
  if (release !== undefined && PENDING_STATUSES.includes(release.status)) {
    const { name, namespace } = want.release;
    return {
      action: "refuse",
      problem: `The Helm release ${namespace}/${name}, which holds the Gateway API CRDs, is stuck: its newest revision (${release.version}) is ${release.status}, left by an interrupted install or upgrade (a killed pulumi up, a lost API server). Helm refuses every operation on it until then; nothing was deployed.`,
      fixes: [
        `make sure no helm command is running on it, then: kubectl delete secret ${revisionSecretName(name, release.version)} -n ${namespace}   # the CRDs stay; the next pulumi up takes them over`,
      ],
    };
  }
  const releaseExists = release !== undefined && INSTALLED_STATUSES.includes(release.status);
  if (cluster.crds.length === 0 && cluster.policy === undefined) {
    return {
      action: "install",
      reason: "the cluster has no Gateway API CRDs",
      adopt: [],
      importRelease: releaseExists,
    };
  }
  const inBundle = cluster.crds.filter((c) => want.crdNames.includes(c.name));
  const byPulumi = (c: InstalledCrd) => c.managers.some((m) => PULUMI_FIELD_MANAGER.test(m));
  const ofOurRelease = (c: InstalledCrd) =>
    c.helmRelease?.name === want.release.name && c.helmRelease.namespace === want.release.namespace;
  // Installed as Pulumi resources by this program's code before the bundle became a release.
  const legacy = inBundle.filter((c) => c.helmRelease === undefined && byPulumi(c));
  const mine = inBundle.filter(ofOurRelease);
  // No recorded manager at all (fields nobody owns, e.g. stripped): nothing to conflict with.
  const foreign = inBundle.filter(
    (c) => (c.managers.length > 0 || c.helmRelease !== undefined) && !legacy.includes(c) && !mine.includes(c),
  );
  const experimental = cluster.crds.filter((c) => c.channel === "experimental");
  const versions = [...cluster.crds.map((c) => c.bundleVersion), cluster.policy?.bundleVersion].filter(
    (v): v is string => v !== undefined && semver.valid(v) !== null,
  );
  const newest = versions.sort(semver.rcompare)[0];
  const newer = newest !== undefined && semver.gt(newest, want.version);

  let why: string;
  if (newer) {
    const policy =
      cluster.policy === undefined
        ? "nothing on this cluster would have stopped that downgrade (no safe-upgrades admission policy)"
        : `its safe-upgrades admission policy${cluster.policy.bundleVersion ? ` (${cluster.policy.bundleVersion})` : ""} would refuse older CRDs halfway through the update`;
    why = `The cluster has Gateway API ${newest}, newer than ${CONFIG_NAMESPACE}:gatewayApiVersion ${want.version}; installing ${want.version} would downgrade it for every Gateway controller of the cluster, and ${policy}.`;
  } else if (experimental.length > 0) {
    why = `The cluster has the experimental channel of Gateway API ${describeVersions(experimental)}; the standard ${want.version} CRDs would drop its experimental kinds and fields.`;
  } else if (foreign.length > 0) {
    why = `The cluster has Gateway API ${describeVersions(foreign)} CRDs managed by ${describeManagers(foreign)}, not by this program; applying ${want.version} over them would conflict with that owner, and taking them over would make its next upgrade conflict with us.`;
  } else {
    if (!want.retainOnDelete && legacy.length > 0) {
      return {
        action: "refuse",
        problem: `The Gateway API CRDs this stack installed as Pulumi resources (${legacy.map((c) => c.name).join(", ")}) now move into the Helm release ${want.release.namespace}/${want.release.name}; but ${CONFIG_NAMESPACE}:retainCrds is false, so Pulumi would delete them, and every Gateway and route of the cluster with them, once the release has taken them over. Nothing was deployed.`,
        fixes: [
          `remove them from the stack without touching the cluster: pulumi state delete '<urn>' for each CustomResourceDefinition (pulumi stack --show-urns lists them), then pulumi up`,
        ],
      };
    }
    const have =
      legacy.length + mine.length > 0
        ? `Gateway API ${describeVersions([...legacy, ...mine])}, installed by this program`
        : "no CRDs of the bundle";
    return {
      action: "install",
      reason: `the cluster has ${have}`,
      // Helm takes over only what carries its ownership metadata: those installed as Pulumi
      // resources, and those nobody manages, get it from a patch. Once patched, a CRD keeps its
      // patch (it owns the labels): dropping it from the stack would be a change in every preview.
      adopt: inBundle
        .filter(
          (c) =>
            (c.helmRelease === undefined && (byPulumi(c) || c.managers.length === 0)) ||
            (ofOurRelease(c) && byPulumi(c)),
        )
        .map((c) => c.name),
      importRelease: releaseExists,
    };
  }

  const missing = want.needs.filter((n) => !cluster.served.some((s) => s.kind === n.kind && s.version === n.version));
  if (missing.length > 0) {
    const fixes = newer
      ? [
          `kubectl apply --server-side -f ${gatewayApiCrdsUrl(newest)}   # the cluster's own release, whole`,
          `pulumi config set ${CONFIG_NAMESPACE}:gatewayApiVersion ${newest}   # then, to say which release the stack uses`,
        ]
      : [
          `kubectl apply --server-side --force-conflicts -f ${gatewayApiCrdsUrl(want.version)}   # if upgrading the cluster's CRDs is yours to decide`,
        ];
    if (!newer && newest !== undefined && atVersion(want.needs, newest).every((n) => servedBy(cluster, n))) {
      fixes.push(
        `pulumi config set ${CONFIG_NAMESPACE}:gatewayApiVersion ${newest}   # use the cluster's release as it is`,
      );
    }
    return {
      action: "refuse",
      problem: `${why} They are left as they are, but they do not serve ${missing.map((n) => `${n.kind} ${GATEWAY_API_GROUP}/${n.version}`).join(", ")}, which this stack creates. Nothing was deployed.`,
      fixes,
    };
  }
  // The stack's state may hold the release (shared by the program's stacks) or, from older code,
  // the CRDs themselves: leaving them out of it deletes them when they are not retained.
  if (!want.retainOnDelete && (legacy.length > 0 || releaseExists)) {
    return {
      action: "refuse",
      problem: `${why} They are left as they are; but ${CONFIG_NAMESPACE}:retainCrds is false, so leaving them out of this stack, which installed them, would delete them and every Gateway and route of the cluster with them. Nothing was deployed.`,
      fixes: [
        `remove them from the stack without touching the cluster: pulumi state delete '<urn>' for the Helm release ${want.release.name} or each CustomResourceDefinition (pulumi stack --show-urns lists them), then pulumi up`,
      ],
    };
  }
  return {
    action: "skip",
    warning:
      `${why} This stack leaves them as they are and installs none of its ${want.version} bundle; they serve every kind it creates (${want.needs.map((n) => `${n.kind} ${n.version}`).join(", ")}). ` +
      `To say so in the configuration and silence this warning: pulumi config set ${CONFIG_NAMESPACE}:installCrds false`,
  };
}

function servedBy(cluster: ClusterGatewayApi, need: ApiNeed): boolean {
  return cluster.served.some((s) => s.kind === need.kind && s.version === need.version);
}

/** The same kinds at the versions the program would use with bundle `version`. */
function atVersion(needs: ApiNeed[], version: string): ApiNeed[] {
  const v = gatewayApiVersions(version);
  const at: Record<string, string> = { Gateway: v.gateway, HTTPRoute: v.httpRoute, ReferenceGrant: v.referenceGrant };
  return needs.map((n) => ({ kind: n.kind, version: at[n.kind] ?? n.version }));
}

function describeVersions(crds: InstalledCrd[]): string {
  const versions = [...new Set(crds.map((c) => c.bundleVersion ?? "of no bundle-version"))];
  return versions.join(", ");
}

function describeManagers(crds: InstalledCrd[]): string {
  const managers = [
    ...new Set(
      crds.flatMap((c) =>
        c.helmRelease ? [`Helm release ${c.helmRelease.namespace}/${c.helmRelease.name}`] : c.managers,
      ),
    ),
  ];
  return managers.length > 0 ? managers.map((m) => `'${m}'`).join(", ") : "no recorded field manager";
}

/** The bundle as `judgeGatewayApiCrds` needs it. */
export function wantedBundle(crds: CrdConfig, needs: ApiNeed[], objects: readonly ManifestObject[]): WantedBundle {
  const crdObjects = objects.filter((o) => o.kind === "CustomResourceDefinition");
  const annotated = crdObjects
    .map((o) => (o.metadata.annotations as Record<string, string> | undefined)?.[BUNDLE_VERSION_ANNOTATION])
    .find((v) => v !== undefined && semver.valid(v) !== null);
  return {
    version: annotated ?? crds.version,
    crdNames: crdObjects.map((o) => o.metadata.name),
    needs,
    retainOnDelete: crds.retainOnDelete,
    release: BUNDLE_RELEASE,
  };
}

/** How the stack installs its bundle, once judged against the cluster. */
export interface BundlePlan {
  /** The bundle's release (see `wantedBundle`). */
  version: string;
  adopt: string[];
  importRelease: boolean;
}

/** How the cluster is read; tests replace `read` so that no cluster is needed. */
export const clusterGatewayApi = {
  read: readClusterGatewayApi,
  /** How long reading may take before the check is skipped. */
  timeoutMs: 10_000,
};

/**
 * How to install the bundle, or undefined when the cluster's CRDs are left as they are (with a
 * warning). Stops the program when the stack can neither install nor leave them.
 */
export async function checkClusterGatewayApi(
  want: WantedBundle,
  cluster: ClusterGatewayApi | undefined,
): Promise<BundlePlan | undefined> {
  if (cluster === undefined) return { version: want.version, adopt: [], importRelease: false };
  const decision = judgeGatewayApiCrds(want, cluster);
  if (decision.action === "install") {
    return { version: want.version, adopt: decision.adopt, importRelease: decision.importRelease };
  }
  if (decision.action === "skip") {
    await pulumi.log.warn(decision.warning);
    return undefined;
  }
  throw userError(`${decision.problem}\n${decision.fixes.map((f) => `  Fix: ${f}`).join("\n")}`);
}

/** Reads the cluster's Gateway API, or warns and returns undefined when it cannot be read. */
export async function readGatewayApiSafely(needs: ApiNeed[]): Promise<ClusterGatewayApi | undefined> {
  try {
    return await withTimeout(clusterGatewayApi.read(clusterSelection(), needs), clusterGatewayApi.timeoutMs);
  } catch (error) {
    await pulumi.log.warn(
      `Could not read the cluster's Gateway API CRDs (${(error as Error).message}); installing the bundle without checking for a newer one or another owner.`,
    );
    return undefined;
  }
}

interface ManagedField {
  manager?: string;
  subresource?: string;
}
interface Metadata {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: ManagedField[];
}

/**
 * Reads the cluster with @kubernetes/client-node (loaded on first use, shared with the storage
 * check): only metadata of the CRDs, so that clusters with many large CRDs answer quickly.
 */
export async function readClusterGatewayApi(selection: ClusterSelection, needs: ApiNeed[]): Promise<ClusterGatewayApi> {
  const get = await clusterGet(selection);

  // v1beta1 too: the versions the stack would use at an older release (a fix may suggest one).
  const versions = [...new Set(["v1", "v1beta1", ...needs.map((n) => n.version)])];
  const release = BUNDLE_RELEASE;
  const [list, policy, revisions, ...discovery] = await Promise.all([
    get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", PARTIAL_LIST),
    get(`/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/${SAFE_UPGRADES_POLICY}`, PARTIAL_OBJECT),
    // Helm's revision records of the bundle's release: their labels say each one's status.
    get(
      `/api/v1/namespaces/${release.namespace}/secrets?labelSelector=${encodeURIComponent(`owner=helm,name=${release.name}`)}`,
      PARTIAL_LIST,
    ),
    ...versions.map((v) => get(`/apis/${GATEWAY_API_GROUP}/${v}`)),
  ]);
  const items = ((list as { items?: { metadata?: Metadata }[] } | undefined)?.items ?? []).map((i) => i.metadata ?? {});
  const crds = items
    .filter((m) => m.name?.endsWith(`.${GATEWAY_API_GROUP}`))
    .map((m): InstalledCrd => ({
      name: m.name as string,
      bundleVersion: m.annotations?.[BUNDLE_VERSION_ANNOTATION],
      channel: m.annotations?.[CHANNEL_ANNOTATION],
      helmRelease: helmOwner(m),
      managers: [
        ...new Set(
          (m.managedFields ?? [])
            .filter((f) => f.subresource !== "status" && f.manager !== undefined)
            .map((f) => f.manager as string),
        ),
      ],
    }));
  const served = versions.flatMap((version, i) =>
    ((discovery[i] as { resources?: { kind?: string; name?: string }[] } | undefined)?.resources ?? [])
      .filter((r) => r.kind !== undefined && r.name !== undefined && !r.name.includes("/"))
      .map((r) => ({ kind: r.kind as string, version })),
  );
  const policyMetadata = (policy as { metadata?: Metadata } | undefined)?.metadata;
  const newest = ((revisions as { items?: { metadata?: Metadata }[] } | undefined)?.items ?? [])
    .map((i) => ({ version: Number(i.metadata?.labels?.version), status: i.metadata?.labels?.status ?? "" }))
    .filter((r) => Number.isInteger(r.version))
    .sort((a, b) => b.version - a.version)[0];
  return {
    crds,
    served,
    policy: policyMetadata ? { bundleVersion: policyMetadata.annotations?.[BUNDLE_VERSION_ANNOTATION] } : undefined,
    bundleRelease: newest,
  };
}

/** The Helm release whose ownership metadata (label and annotations) an object carries, if any. */
function helmOwner(m: Metadata): HelmReleaseName | undefined {
  const { release, namespace } = helmOwnerOf(m.annotations);
  if (m.labels?.[HELM_OWNER.managedByLabel] !== "Helm" || !release || !namespace) return undefined;
  return { name: release, namespace };
}

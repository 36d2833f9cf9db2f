import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * What the dot-ai agent's ServiceAccount may do in the cluster: `chart`, the chart's own ClusterRole
 * (every resource, read and write, cluster-wide); `read`, read-only cluster-wide; and
 * `read-write-namespaces`, that read plus writing in the listed namespaces.
 */
export type AgentAccess =
  | { readonly kind: "chart" }
  | { readonly kind: "read" }
  | { readonly kind: "read-write-namespaces"; readonly namespaces: readonly string[] };
export const AGENT_ACCESS_KINDS: readonly AgentAccess["kind"][] = ["chart", "read", "read-write-namespaces"];

/**
 * Cluster-scoped reads the built-in `view` role leaves out and dot-ai's discovery uses: which kinds
 * exist (CRDs, API services), and the cluster's namespaces, nodes and classes of storage, ingress and
 * Gateway. Still nothing of Secrets, which `view` leaves out on purpose (a ServiceAccount token is a
 * Secret).
 */
export const CLUSTER_READ_RULES: readonly k8s.types.input.rbac.v1.PolicyRule[] = [
  { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["apiregistration.k8s.io"], resources: ["apiservices"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["namespaces", "nodes", "persistentvolumes"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csidrivers"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["networking.k8s.io"], resources: ["ingressclasses"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["gateway.networking.k8s.io"], resources: ["gatewayclasses"], verbs: ["get", "list", "watch"] },
];

export interface AgentServiceAccountArgs {
  /** The app namespace, where the ServiceAccount lives and the pods run. */
  readonly namespace: pulumi.Input<string>;
  /** The ServiceAccount's name (the chart's pods are told it through `serviceAccount.name`). */
  readonly name: string;
  /** Prefix for the cluster-scoped objects, unique in the cluster: e.g. `<namespace>-<fullname>`. */
  readonly clusterScopedPrefix: string;
  /** `read` or `read-write-namespaces`; `chart` needs no ServiceAccount of the program's. */
  readonly access: Exclude<AgentAccess, { kind: "chart" }>;
}

/**
 * The agent's identity when its reach is scoped: a ServiceAccount of the program's, bound to the
 * built-in `view` ClusterRole and to a small ClusterRole of cluster-scoped reads, and, for
 * `read-write-namespaces`, to the built-in `edit` ClusterRole by a RoleBinding in each listed
 * namespace (so writes stop at those namespaces). The chart is then told `serviceAccount.create:
 * false`, and renders no ServiceAccount, ClusterRole or binding of its own.
 */
export class AgentServiceAccount extends pulumi.ComponentResource {
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  /** The ServiceAccount's name, known at registration (the chart's values need it). */
  public readonly name: string;

  constructor(name: string, args: AgentServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dot-ai-gateway:agent-access:AgentServiceAccount", name, {}, opts);
    this.name = args.name;
    const subject = { kind: "ServiceAccount", name: args.name, namespace: args.namespace };
    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      { metadata: { name: args.name, namespace: args.namespace } },
      { parent: this },
    );
    const readRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-read`,
      { metadata: { name: `${args.clusterScopedPrefix}-cluster-read` }, rules: [...CLUSTER_READ_RULES] },
      { parent: this },
    );
    for (const [suffix, roleName] of [
      ["view", "view"],
      ["cluster-read", readRole.metadata.name],
    ] as const) {
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-${suffix}`,
        {
          metadata: { name: `${args.clusterScopedPrefix}-${suffix}` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
          subjects: [subject],
        },
        { parent: this },
      );
    }
    if (args.access.kind === "read-write-namespaces") {
      for (const ns of args.access.namespaces) {
        new k8s.rbac.v1.RoleBinding(
          `${name}-edit-${ns}`,
          {
            metadata: { name: `${args.clusterScopedPrefix}-edit`, namespace: ns },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
            subjects: [subject],
          },
          { parent: this },
        );
      }
    }
    this.registerOutputs({ name: this.name });
  }
}

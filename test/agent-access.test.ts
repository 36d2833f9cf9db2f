import * as assert from "assert";

import { CLUSTER_READ_RULES } from "../components/agent-access";
import { APP_RELEASE, StackRun, TYPES, byType, devSpec, one, prodSpec, runStack } from "./harness";

/** What the pods run as, and what it is bound to, by the stack's agentAccess. */
describe("the dot-ai agent's reach (agentAccess)", () => {
  const deployed = async (spec: ReturnType<typeof devSpec>): Promise<StackRun> => {
    const run = await runStack(spec);
    if (run.error) throw run.error;
    return run;
  };

  it("is the chart's own by default: its ServiceAccount and cluster-wide ClusterRole, nothing of the program's", async () => {
    const run = await deployed(devSpec());
    assert.strictEqual(
      one(run, TYPES.release, APP_RELEASE).inputs.values.serviceAccount,
      undefined,
      "the chart's defaults",
    );
    for (const type of [TYPES.serviceAccount, TYPES.clusterRole, TYPES.clusterRoleBinding, TYPES.roleBinding]) {
      assert.deepStrictEqual(byType(run, type), [], type);
    }
  });

  it("read: a ServiceAccount of the program's, bound to view and to cluster-scoped reads, and no write anywhere", async () => {
    const run = await deployed(devSpec({ agentAccess: "read" }));
    const sa = one(run, TYPES.serviceAccount);
    assert.deepStrictEqual(sa.inputs.metadata, { name: "dot-ai-agent", namespace: "dot-ai" });
    assert.deepStrictEqual(one(run, TYPES.release, APP_RELEASE).inputs.values.serviceAccount, {
      create: false,
      name: "dot-ai-agent",
    });

    const subject = { kind: "ServiceAccount", name: "dot-ai-agent", namespace: "dot-ai" };
    const bindings = byType(run, TYPES.clusterRoleBinding);
    assert.deepStrictEqual(bindings.map((b) => b.inputs.roleRef.name).sort(), [
      "dot-ai-dot-ai-agent-cluster-read",
      "view",
    ]);
    for (const b of bindings) assert.deepStrictEqual(b.inputs.subjects, [subject]);
    const role = one(run, TYPES.clusterRole);
    assert.strictEqual(role.inputs.metadata.name, "dot-ai-dot-ai-agent-cluster-read");
    for (const rule of role.inputs.rules) {
      assert.deepStrictEqual(rule.verbs, ["get", "list", "watch"], "reads only");
      assert.ok(!rule.resources.includes("secrets") && !rule.resources.includes("*"), JSON.stringify(rule));
    }
    assert.deepStrictEqual(byType(run, TYPES.roleBinding), []);
  });

  it("read-write-namespaces: edit by a RoleBinding in each listed namespace only", async () => {
    const run = await deployed(
      devSpec({ agentAccess: "read-write-namespaces", agentWriteNamespaces: '["team-b","team-a","team-b"]' }),
    );
    const edits = byType(run, TYPES.roleBinding);
    assert.deepStrictEqual(
      edits.map((b) => b.inputs.metadata.namespace),
      ["team-a", "team-b"],
      "sorted, once each",
    );
    for (const b of edits) {
      assert.deepStrictEqual(b.inputs.roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "edit",
      });
      assert.deepStrictEqual(b.inputs.subjects, [
        { kind: "ServiceAccount", name: "dot-ai-agent", namespace: "dot-ai" },
      ]);
    }
    assert.strictEqual(byType(run, TYPES.clusterRoleBinding).length, 2, "the reads stay cluster-wide");
  });

  it("starts the pods only once their ServiceAccount and its bindings exist", async () => {
    const run = await deployed(prodSpec({ agentAccess: "read" }));
    const release = one(run, TYPES.release, APP_RELEASE);
    for (const child of [
      one(run, TYPES.serviceAccount),
      one(run, TYPES.clusterRole),
      ...byType(run, TYPES.clusterRoleBinding),
    ]) {
      assert.ok(release.dependencies.includes(child.urn), `release after ${child.type} ${child.name}`);
    }
  });

  it("names cluster-scoped objects after the namespace too, so two teams' releases of one name do not meet", async () => {
    const a = await deployed(devSpec({ agentAccess: "read", namespace: "team-a" }));
    const b = await deployed(devSpec({ agentAccess: "read", namespace: "team-b" }));
    const names = (r: StackRun) => byType(r, TYPES.clusterRoleBinding).map((x) => x.inputs.metadata.name);
    assert.deepStrictEqual(
      names(a).filter((n) => names(b).includes(n)),
      [],
    );
  });

  it("reads CRDs, the kinds a cluster offers, which built-in view leaves out", () => {
    const crds = CLUSTER_READ_RULES.find((r) => (r.apiGroups as string[]).includes("apiextensions.k8s.io"));
    assert.deepStrictEqual(crds?.resources, ["customresourcedefinitions"]);
  });
});

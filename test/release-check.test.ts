import * as assert from "assert";

import { readClusterRoleOwner, readHelmRevisions, revisionSecretName, stuckRevision } from "../cluster/release-check";
import {
  APP_RELEASE,
  TYPES,
  appSpec,
  byType,
  devSpec,
  platformOutputs,
  platformSpec,
  prodSpec,
  runStack,
} from "./harness";
import { FakeCluster, startFakeCluster } from "./support/fake-cluster";

describe("a release name another namespace's release already uses", () => {
  for (const [name, spec] of [
    ["dev", devSpec()],
    ["prod", prodSpec()],
    ["an app stack", appSpec("team-b", {}, platformOutputs())],
  ] as const) {
    it(`stops ${name} before anything is registered, naming the owner and the fix`, async () => {
      const release = spec.config?.releaseName ?? "dot-ai";
      const run = await runStack({ ...spec, releaseClusterRole: { release, namespace: "team-a" } });
      assert.ok(run.error, "the program stopped");
      assert.ok(
        run.error.message.startsWith(`ClusterRole ${release} belongs to Helm release ${release} in namespace team-a.`),
        run.error.message,
      );
      assert.match(run.error.message, /names its ClusterRole and ClusterRoleBinding after the release, cluster-wide/);
      assert.ok(
        run.error.message.includes(`pulumi config set dot-ai-gateway:releaseName dot-ai-${spec.stack}`),
        run.error.message,
      );
      assert.deepStrictEqual(
        run.resources.filter((r) => r.type !== "pulumi:pulumi:StackReference"),
        [],
      );
    });
  }

  it("stops too when a ClusterRole of that name belongs to no Helm release", async () => {
    const run = await runStack({ ...devSpec(), releaseClusterRole: {} });
    assert.match(run.error?.message ?? "", /ClusterRole dot-ai exists and belongs to no Helm release/);
  });

  it("deploys when the ClusterRole is the stack's own release's (an upgrade)", async () => {
    const run = await runStack({ ...devSpec(), releaseClusterRole: { release: "dot-ai", namespace: "dot-ai" } });
    if (run.error) throw run.error;
    assert.strictEqual(byType(run, TYPES.release).filter((r) => r.name === APP_RELEASE).length, 1);
  });

  it("reads the ClusterRole's Helm ownership annotations, as metadata only; none of that name is no owner", async () => {
    const cluster = await startFakeCluster((req) =>
      req.path === "/apis/rbac.authorization.k8s.io/v1/clusterroles/dot-ai"
        ? {
            body: {
              kind: "PartialObjectMetadata",
              metadata: {
                name: "dot-ai",
                annotations: { "meta.helm.sh/release-name": "dot-ai", "meta.helm.sh/release-namespace": "team-a" },
              },
            },
          }
        : undefined,
    );
    try {
      const selection = { kubeconfig: cluster.kubeconfig() };
      assert.deepStrictEqual(await readClusterRoleOwner(selection, "dot-ai"), {
        release: "dot-ai",
        namespace: "team-a",
      });
      assert.strictEqual(await readClusterRoleOwner(selection, "dot-ai-b"), undefined);
      assert.ok(cluster.requests.every((r) => r.accept?.includes("as=PartialObjectMetadata;")));
    } finally {
      await cluster.close();
    }
  });

  it("is reported together with a pending revision: every problem found before deploying at once", async () => {
    const run = await runStack({
      ...devSpec(),
      releaseClusterRole: { release: "dot-ai", namespace: "team-a" },
      helmRevisions: [{ version: 1, status: "pending-install" }],
    });
    assert.match(run.error?.message ?? "", /ClusterRole dot-ai belongs to Helm release dot-ai in namespace team-a/);
    assert.match(run.error?.message ?? "", /newest revision \(1\) is pending-install/);
    assert.deepStrictEqual(run.resources, []);
  });

  it("carries on with a warning when the ClusterRole cannot be read", async () => {
    const run = await runStack({ ...devSpec(), releaseClusterRole: new Error("HTTP 403") });
    if (run.error) throw run.error;
    assert.strictEqual(byType(run, TYPES.release).filter((r) => r.name === APP_RELEASE).length, 1);
    assert.ok(
      run.warnings.some((w) => /Could not read ClusterRole dot-ai \(HTTP 403\)/.test(w)),
      run.warnings.join("\n"),
    );
  });
});

describe("a Helm release left pending by an interrupted run", () => {
  describe("is found from the release's revisions", () => {
    it("when the newest revision is pending-install, pending-upgrade or pending-rollback", () => {
      for (const status of ["pending-install", "pending-upgrade", "pending-rollback"]) {
        assert.deepStrictEqual(
          stuckRevision([
            { version: 1, status: "superseded" },
            { version: 3, status },
            { version: 2, status: "deployed" },
          ]),
          { version: 3, status },
        );
      }
    });

    it("but not for a first install, a deployed or failed release, or an old pending revision", () => {
      assert.strictEqual(stuckRevision([]), undefined);
      assert.strictEqual(stuckRevision([{ version: 1, status: "deployed" }]), undefined);
      assert.strictEqual(stuckRevision([{ version: 4, status: "failed" }]), undefined);
      assert.strictEqual(
        stuckRevision([
          { version: 2, status: "pending-upgrade" },
          { version: 3, status: "deployed" },
        ]),
        undefined,
      );
    });

    it("and named as Helm stores it", () => {
      assert.strictEqual(revisionSecretName("dot-ai", 7), "sh.helm.release.v1.dot-ai.v7");
    });
  });

  describe("stops the program before anything is registered", () => {
    const PENDING = [
      { version: 1, status: "deployed" },
      { version: 2, status: "pending-upgrade" },
    ];

    for (const [name, spec] of [
      ["dev", devSpec()],
      ["prod", prodSpec()],
      ["an app stack", appSpec("team-a", {}, platformOutputs())],
    ] as const) {
      it(`on ${name}, naming the revision to delete`, async () => {
        const run = await runStack({ ...spec, helmRevisions: PENDING });
        assert.ok(run.error, "the program stopped");
        assert.match(run.error.message, /newest revision \(2\) is pending-upgrade/);
        const release = spec.config?.releaseName ?? "dot-ai";
        const namespace = spec.config?.namespace ?? "dot-ai";
        assert.ok(
          run.error.message.includes(`kubectl delete secret sh.helm.release.v1.${release}.v2 -n ${namespace}`),
          run.error.message,
        );
        assert.match(run.error.message, /pulumi cancel/);
        assert.deepStrictEqual(
          run.resources.filter((r) => r.type !== "pulumi:pulumi:StackReference"),
          [],
        );
      });
    }

    it("and carries on with a warning when the cluster cannot be read", async () => {
      const run = await runStack({ ...devSpec(), helmRevisions: new Error("connect ECONNREFUSED 127.0.0.1:6443") });
      if (run.error) throw run.error;
      assert.strictEqual(byType(run, TYPES.release).filter((r) => r.name === APP_RELEASE).length, 1);
      assert.ok(run.warnings.some((w) => /ECONNREFUSED.*half-done Helm operation/.test(w)));
    });

    it("and not on a platform stack, which has no release", async () => {
      const run = await runStack({ ...platformSpec(), helmRevisions: PENDING });
      if (run.error) throw run.error;
    });
  });

  describe("is read from the labels of Helm's storage Secrets", () => {
    let cluster: FakeCluster;
    before(async () => {
      cluster = await startFakeCluster((req) => {
        const selector = req.query.get("labelSelector") ?? "";
        const secret = (version: number, status: string) => ({
          metadata: {
            name: `sh.helm.release.v1.dot-ai.v${version}`,
            labels: { owner: "helm", name: "dot-ai", version: `${version}`, status },
          },
        });
        const all = [secret(1, "superseded"), secret(2, "pending-upgrade")];
        const items = selector.includes("status=")
          ? all.filter((s) => selector.endsWith(s.metadata.labels.status))
          : all;
        return { body: { apiVersion: "v1", kind: "SecretList", metadata: {}, items } };
      });
    });
    after(() => cluster.close());

    it("as none when the namespace holds no revision (the API server lists no items as null)", async () => {
      const empty = await startFakeCluster(() => ({
        body: { apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadataList", metadata: {}, items: null },
      }));
      try {
        assert.deepStrictEqual(await readHelmRevisions({ kubeconfig: empty.kubeconfig() }, "new-ns", "dot-ai"), []);
      } finally {
        await empty.close();
      }
    });

    it("from the labels of every revision, read as metadata only, beside the deployed revision's record", async () => {
      const revisions = await readHelmRevisions({ kubeconfig: cluster.kubeconfig() }, "dot-ai", "dot-ai");
      assert.deepStrictEqual(revisions, [
        { version: 1, status: "superseded" },
        { version: 2, status: "pending-upgrade" },
      ]);
      const selectors = cluster.requests.map((r) => `${r.path} ${r.query.get("labelSelector")}`);
      assert.deepStrictEqual(selectors.sort(), [
        "/api/v1/namespaces/dot-ai/secrets owner=helm,name=dot-ai",
        "/api/v1/namespaces/dot-ai/secrets owner=helm,name=dot-ai,status=deployed",
      ]);
    });
  });
});

import * as assert from "assert";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";

import { SECRETS_REVISION_ENV } from "../components/chart-values";
import { chartObjects, manifestObjects, readMissingObjects, releaseRecord } from "../cluster/chart-objects";
import { HelmRevision, checkHelmRelease, deployedRevision, readHelmRevisions } from "../cluster/release-check";
import { APP_RELEASE, TYPES, devSpec, one, prodSpec, runStack } from "./harness";
import { FakeCluster, startFakeCluster } from "./support/fake-cluster";

/** A manifest as Helm stores it: documents under `# Source:` comments, namespaces left to Helm. */
const MANIFEST = `---
# Source: dot-ai/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: dot-ai
  labels:
    app.kubernetes.io/managed-by: Helm
---
# Source: dot-ai/templates/clusterrole.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: dot-ai
rules: []
---
# Source: dot-ai/templates/httproute.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: dot-ai
  annotations:
    note: "kept"
spec:
  hostnames: ["dot-ai.example.com"]
  parentRefs:
    - name: cluster-gateway
      namespace: gateway-system
---
# Source: dot-ai/templates/widget.yaml
apiVersion: example.com/v1
kind: Widget
metadata:
  name: dot-ai-widget
---
# Source: dot-ai/templates/empty.yaml
`;

/** Helm's record of a release: base64 of the gzipped JSON. */
/** A deployed release's values as this program passes them (the digest of the Secret in extraEnv). */
const OUR_VALUES = { extraEnv: [{ name: SECRETS_REVISION_ENV, value: "0123456789abcdef" }] };

function helmRecord(manifest: string, description = "Upgrade complete"): string {
  return zlib
    .gzipSync(JSON.stringify({ name: "dot-ai", version: 2, manifest, info: { description }, config: OUR_VALUES }))
    .toString("base64");
}

describe("objects of the deployed Helm revision deleted by hand", () => {
  describe("are known from Helm's record of the revision", () => {
    it("whose manifest and description are gzipped JSON in base64 (plain JSON from older Helm)", () => {
      assert.deepStrictEqual(releaseRecord(helmRecord(MANIFEST)), {
        manifest: MANIFEST,
        description: "Upgrade complete",
        values: OUR_VALUES,
      });
      assert.deepStrictEqual(releaseRecord(Buffer.from(JSON.stringify({ manifest: "kind: X" })).toString("base64")), {
        manifest: "kind: X",
      });
      assert.throws(() => releaseRecord(Buffer.from("{}").toString("base64")), /no manifest/);
    });

    it("each object in the namespace Helm installs it in, cluster-scoped ones in none", () => {
      assert.deepStrictEqual(
        manifestObjects(MANIFEST, "team-a").map((o) => [o.apiVersion, o.kind, o.name, o.namespace]),
        [
          ["v1", "ServiceAccount", "dot-ai", "team-a"],
          ["rbac.authorization.k8s.io/v1", "ClusterRole", "dot-ai", undefined],
          ["gateway.networking.k8s.io/v1", "HTTPRoute", "dot-ai", "team-a"],
          // Unknown kinds: namespaced until discovery says otherwise (see below).
          ["example.com/v1", "Widget", "dot-ai-widget", "team-a"],
        ],
      );
    });

    it("only when the newest revision is deployed (after a failed upgrade the objects are in between)", () => {
      const deployed = { version: 2, status: "deployed", manifest: MANIFEST };
      assert.strictEqual(deployedRevision([{ version: 1, status: "superseded" }, deployed]), deployed);
      assert.strictEqual(deployedRevision([deployed, { version: 3, status: "failed" }]), undefined);
      assert.strictEqual(deployedRevision([{ version: 2, status: "deployed" }]), undefined, "no manifest read");
      assert.strictEqual(deployedRevision([]), undefined);
    });
  });

  describe("before anything is registered", () => {
    const DEPLOYED: HelmRevision[] = [
      { version: 1, status: "superseded" },
      { version: 2, status: "deployed", manifest: MANIFEST, description: "Upgrade complete", values: OUR_VALUES },
    ];
    const original = { ...chartObjects };
    afterEach(() => Object.assign(chartObjects, original));
    beforeEach(() => {
      chartObjects.missing = async (_, objects) => objects.filter((o) => o.kind === "HTTPRoute");
    });
    const description = (run: Awaited<ReturnType<typeof runStack>>) =>
      one(run, TYPES.release, APP_RELEASE).inputs.description;

    for (const [name, spec, namespace] of [
      ["dev", devSpec(), "dot-ai"],
      ["prod", prodSpec({ namespace: "team-a" }), "team-a"],
    ] as const) {
      it(`(${name}) become a change of the release's description, which upgrades it: Helm creates them again`, async () => {
        const run = await runStack({ ...spec, helmRevisions: DEPLOYED });
        if (run.error) throw run.error;
        assert.strictEqual(
          description(run),
          `dot-ai-gateway: re-creates HTTPRoute ${namespace}/dot-ai, missing from revision 2`,
        );
        assert.ok(
          run.warnings.some((w) =>
            w.includes(
              `1 object(s) of the Helm release dot-ai (namespace ${namespace}, revision 2) are missing from the cluster: HTTPRoute ${namespace}/dot-ai`,
            ),
          ),
          run.warnings.join("\n"),
        );
      });
    }

    it("nothing missing: no warning, and Helm's own description stays (no change to the release)", async () => {
      chartObjects.missing = async () => [];
      const run = await runStack({ ...devSpec(), helmRevisions: DEPLOYED });
      if (run.error) throw run.error;
      assert.strictEqual(description(run), undefined);
      assert.ok(!run.warnings.some((w) => /Helm release/.test(w)), run.warnings.join("\n"));
    });

    it("after a repair, its description is kept, so the next preview shows no change", async () => {
      chartObjects.missing = async () => [];
      const repaired = "dot-ai-gateway: re-creates HTTPRoute dot-ai/dot-ai, missing from revision 2";
      const run = await runStack({
        ...devSpec(),
        helmRevisions: [...DEPLOYED.slice(0, 1), { ...DEPLOYED[1], version: 3, description: repaired }],
      });
      if (run.error) throw run.error;
      assert.strictEqual(description(run), repaired);
    });

    it("a first install or a failed upgrade: not checked", async () => {
      chartObjects.missing = async () => assert.fail("no check expected");
      for (const helmRevisions of [[], [...DEPLOYED, { version: 3, status: "failed" }]]) {
        const run = await runStack({ ...devSpec(), helmRevisions });
        if (run.error) throw run.error;
        assert.strictEqual(description(run), undefined);
      }
    });

    it("the cluster cannot be read: a warning, and the stack deploys as it is", async () => {
      chartObjects.missing = async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
      };
      const run = await runStack({ ...devSpec(), helmRevisions: DEPLOYED });
      if (run.error) throw run.error;
      assert.ok(run.warnings.some((w) => /ECONNREFUSED.*skipping that check/.test(w)));
      assert.strictEqual(description(run), undefined);
    });

    describe("on preview", () => {
      const warnings: string[] = [];
      const log = pulumi.log as { warn: (msg: string) => Promise<void> };
      const warn = log.warn;
      const originalRead = { ...chartObjects };
      before(async () => {
        await pulumi.runtime.setMocks(
          { newResource: () => ({ id: "x", state: {} }), call: () => ({}) },
          "dot-ai-gateway",
          "dev",
          true,
        );
        log.warn = async (msg: string) => {
          warnings.push(msg);
        };
      });
      after(() => {
        log.warn = warn;
        Object.assign(chartObjects, originalRead);
      });

      it("named, with the release update that repairs them (what up will do)", async () => {
        const { helmRevisions } = await import("../cluster/release-check");
        const read = helmRevisions.read;
        helmRevisions.read = async () => DEPLOYED;
        let description: string | undefined;
        try {
          ({ description } = await checkHelmRelease({ namespace: "dot-ai", releaseName: "dot-ai" }));
        } finally {
          helmRevisions.read = read;
        }
        assert.strictEqual(description, "dot-ai-gateway: re-creates HTTPRoute dot-ai/dot-ai, missing from revision 2");
        assert.deepStrictEqual(warnings, [
          "1 object(s) of the Helm release dot-ai (namespace dot-ai, revision 2) are missing from the cluster: HTTPRoute dot-ai/dot-ai " +
            "(deleted by hand? The release resource tracks its revision, not its objects). " +
            "pulumi up upgrades the release with a new description, and Helm creates them again from the chart.",
        ]);
      });
    });
  });

  describe("through the API server", () => {
    let cluster: FakeCluster;
    let kubeconfig: string;
    const requests: string[] = [];
    const posted: { path: string; body: Record<string, unknown> }[] = [];
    /** Objects the fake cluster has, by path. */
    const present = new Set([
      "/api/v1/namespaces/dot-ai/serviceaccounts/dot-ai",
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/dot-ai",
      "/apis/example.com/v1/widgets/dot-ai-widget",
    ]);
    const secret = (version: number, status: string, data?: string) => ({
      metadata: {
        name: `sh.helm.release.v1.dot-ai.v${version}`,
        labels: { owner: "helm", name: "dot-ai", version: `${version}`, status },
      },
      ...(data === undefined ? {} : { data: { release: Buffer.from(data).toString("base64") } }),
    });

    before(async () => {
      cluster = await startFakeCluster((req) => {
        const accept = req.accept ?? "";
        const selector = req.query.get("labelSelector");
        requests.push(
          `${req.method} ${req.path}${selector ? ` ${selector}` : ""}${accept.includes("PartialObjectMetadata") ? " (metadata)" : ""}`,
        );
        if (req.path === "/api/v1/namespaces/dot-ai/secrets") {
          const items = selector?.endsWith("status=deployed")
            ? [secret(2, "deployed", helmRecord(MANIFEST))]
            : [secret(1, "superseded"), secret(2, "deployed")];
          return { body: { kind: "SecretList", items } };
        }
        if (req.path === "/apis/example.com/v1") {
          return { body: { resources: [{ name: "widgets", kind: "Widget", namespaced: false }] } };
        }
        if (req.method === "POST") {
          const query = req.query.toString();
          posted.push({ path: `${req.path}${query ? `?${query}` : ""}`, body: req.body as Record<string, unknown> });
          if (req.path.endsWith("/clusterroles"))
            return { status: 403, body: { message: "clusterroles is forbidden" } };
          return { status: 201, body: {} };
        }
        return { status: present.has(req.path) ? 200 : 404, body: { kind: "Status" } };
      });
      kubeconfig = cluster.kubeconfig();
    });
    after(() => cluster.close());
    beforeEach(() => {
      requests.length = 0;
      posted.length = 0;
    });

    it("the revisions from two reads at once: labels of every revision, the deployed record with its manifest and description", async () => {
      const revisions = await readHelmRevisions({ kubeconfig }, "dot-ai", "dot-ai");
      assert.deepStrictEqual(revisions, [
        { version: 1, status: "superseded" },
        { version: 2, status: "deployed", manifest: MANIFEST, description: "Upgrade complete", values: OUR_VALUES },
      ]);
      assert.deepStrictEqual(requests.sort(), [
        "GET /api/v1/namespaces/dot-ai/secrets owner=helm,name=dot-ai (metadata)",
        "GET /api/v1/namespaces/dot-ai/secrets owner=helm,name=dot-ai,status=deployed",
      ]);
    });

    it("which objects are missing: one metadata GET each, discovery only for kinds it does not know", async () => {
      const t0 = process.hrtime.bigint();
      const missing = await readMissingObjects({ kubeconfig }, manifestObjects(MANIFEST, "dot-ai"));
      console.log(`      [unit time] missing-objects read: ${Number(process.hrtime.bigint() - t0) / 1e6} ms`);
      assert.deepStrictEqual(
        missing.map((o) => `${o.kind} ${o.namespace}/${o.name}`),
        ["HTTPRoute dot-ai/dot-ai"],
      );
      assert.deepStrictEqual(requests.sort(), [
        "GET /api/v1/namespaces/dot-ai/serviceaccounts/dot-ai (metadata)",
        "GET /apis/example.com/v1",
        "GET /apis/example.com/v1/widgets/dot-ai-widget (metadata)",
        "GET /apis/gateway.networking.k8s.io/v1/namespaces/dot-ai/httproutes/dot-ai (metadata)",
        "GET /apis/rbac.authorization.k8s.io/v1/clusterroles/dot-ai (metadata)",
      ]);
    });

    it("the whole check on up sends the cluster reads only: no POST, PUT, PATCH or DELETE from program code", async () => {
      await pulumi.runtime.setMocks(
        { newResource: () => ({ id: "x", state: {} }), call: () => ({}) },
        "dot-ai-gateway",
        "dev",
        false,
      );
      pulumi.runtime.setAllConfig({ "kubernetes:kubeconfig": kubeconfig });
      const { helmRevisions, releaseClusterRole } = await import("../cluster/release-check");
      const seams = { revisions: helmRevisions.read, role: releaseClusterRole.read, missing: chartObjects.missing };
      Object.assign(helmRevisions, { read: readHelmRevisions });
      Object.assign(chartObjects, { missing: readMissingObjects });
      // The name check's own read is covered in release-check.test.ts; here it finds no ClusterRole.
      releaseClusterRole.read = async () => undefined;
      try {
        const { description } = await checkHelmRelease({ namespace: "dot-ai", releaseName: "dot-ai" });
        assert.strictEqual(description, "dot-ai-gateway: re-creates HTTPRoute dot-ai/dot-ai, missing from revision 2");
      } finally {
        Object.assign(helmRevisions, { read: seams.revisions });
        Object.assign(chartObjects, { missing: seams.missing });
        releaseClusterRole.read = seams.role;
        pulumi.runtime.setAllConfig({});
      }
      assert.ok(requests.length >= 6, requests.join("\n"));
      assert.deepStrictEqual(
        requests.filter((r) => !r.startsWith("GET ")),
        [],
        "program code only reads the cluster",
      );
      assert.deepStrictEqual(posted, []);
    });
  });
});

import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@kubernetes/client-node";

import { readMissingObjects } from "../cluster/chart-objects";
import { clusterGet, loadKubeConfig, withTimeout } from "../cluster/client";
import { readClusterGatewayApi } from "../cluster/crd-precheck";
import { readClusterRoleOwner, readHelmRevisions } from "../cluster/release-check";
import { readClusterStorage } from "../cluster/storage-check";
import { FAKE_TOKEN, FakeCluster, startFakeCluster } from "./support/fake-cluster";

/** Two clusters and two contexts; `one` is current. */
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: one
clusters:
- name: first
  cluster: { server: "https://127.0.0.1:6443" }
- name: second
  cluster: { server: "https://127.0.0.1:7443" }
contexts:
- name: one
  context: { cluster: first, user: u }
- name: two
  context: { cluster: second, user: u }
users:
- name: u
  user: { token: t }
`;

describe("the cluster a stack's kubernetes settings select", () => {
  const server = (selection: Parameters<typeof loadKubeConfig>[1]) =>
    loadKubeConfig(k8s, selection).getCurrentCluster()?.server;

  it("is the kubeconfig's current context unless kubernetes:context or kubernetes:cluster says otherwise", () => {
    assert.strictEqual(server({ kubeconfig: KUBECONFIG }), "https://127.0.0.1:6443");
    assert.strictEqual(server({ kubeconfig: KUBECONFIG, context: "two" }), "https://127.0.0.1:7443");
    assert.strictEqual(server({ kubeconfig: KUBECONFIG, cluster: "second" }), "https://127.0.0.1:7443");
    assert.strictEqual(server({ kubeconfig: KUBECONFIG, context: "two", cluster: "first" }), "https://127.0.0.1:6443");
  });

  it("takes kubernetes:kubeconfig as a path as well as the file's contents, as pulumi-kubernetes does", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dot-ai-kubeconfig-"));
    try {
      const file = path.join(dir, "config");
      fs.writeFileSync(file, KUBECONFIG.replace("current-context: one", "current-context: two"));
      assert.strictEqual(server({ kubeconfig: file }), "https://127.0.0.1:7443");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a cluster read", () => {
  it("gives the answer when it comes in time", async () => {
    assert.strictEqual(await withTimeout(Promise.resolve("answer"), 1000), "answer");
  });

  it("gives up after the time allowed, saying how long it waited, so the check can skip itself", async () => {
    const never = new Promise<string>(() => undefined);
    await assert.rejects(withTimeout(never, 50), /^Error: no answer within 0\.05 s$/);
  });

  it("fails with the read's own error when that comes first", async () => {
    await assert.rejects(withTimeout(Promise.reject(new Error("connect ECONNREFUSED")), 1000), /ECONNREFUSED/);
  });
});

describe("the program's reads of the cluster (cluster/)", () => {
  let cluster: FakeCluster;
  before(async () => {
    // Everything empty or absent: each read still makes its requests.
    cluster = await startFakeCluster((req) =>
      req.path.endsWith("s") && !req.path.includes("/namespaces/dot-ai/") ? { body: { items: [] } } : undefined,
    );
  });
  after(() => cluster.close());

  it("go through the client library with the stack's credentials and only ever GET: no write from program code", async () => {
    const selection = { kubeconfig: cluster.kubeconfig() };
    await readClusterGatewayApi(selection, [{ kind: "Gateway", version: "v1" }]);
    await readClusterStorage(selection, "dot-ai", "qdrant-storage-dot-ai-qdrant-0");
    await readHelmRevisions(selection, "dot-ai", "dot-ai");
    await readClusterRoleOwner(selection, "dot-ai");
    await readMissingObjects(selection, [
      { apiVersion: "v1", kind: "Service", name: "dot-ai", namespace: "dot-ai", object: {} },
      { apiVersion: "example.com/v1", kind: "Widget", name: "w", namespace: "dot-ai", object: {} },
    ]);
    const methods = new Set(cluster.requests.map((r) => r.method));
    assert.ok(cluster.requests.length >= 12, String(cluster.requests.length));
    assert.deepStrictEqual([...methods], ["GET"]);
    assert.ok(cluster.requests.every((r) => r.authorization === `Bearer ${FAKE_TOKEN}`));
  });

  it("say which request failed, with the API server's answer, and take 404 for absent", async () => {
    const failing = await startFakeCluster(() => ({ status: 403, body: { message: "secrets is forbidden" } }));
    try {
      const get = await clusterGet({ kubeconfig: failing.kubeconfig() });
      await assert.rejects(get("/api/v1/secrets"), /^Error: GET \/api\/v1\/secrets: HTTP 403 .*secrets is forbidden/);
    } finally {
      await failing.close();
    }
    const get = await clusterGet({ kubeconfig: cluster.kubeconfig() });
    assert.strictEqual(await get("/api/v1/namespaces/dot-ai/services/absent"), undefined);
  });
});

import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@kubernetes/client-node";

import { loadKubeConfig, withTimeout } from "../stacks/kube-client";

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

import * as assert from "assert";

import { StackRun, TYPES, byType, devSpec, one, runStack } from "./harness";

describe("dev stack (creation pattern)", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack(devSpec());
    if (run.error) throw run.error;
  });

  it("deploys no platform: no shared Gateway, Certificate or ReferenceGrant", () => {
    for (const type of [TYPES.gateway, TYPES.certificate, TYPES.referenceGrant])
      assert.strictEqual(byType(run, type).length, 0, type);
    assert.deepStrictEqual(
      byType(run, TYPES.namespace).map((n) => n.inputs.metadata.name),
      ["dot-ai"],
    );
  });

  it("still installs the (retained) Gateway API CRDs; the release waits only for those of the kinds the chart renders", () => {
    const crds = byType(run, TYPES.crd);
    assert.strictEqual(crds.length, 3);
    for (const crd of crds) assert.ok(crd.retainOnDelete, crd.name);
    const crd = (plural: string) => one(run, TYPES.crd, `${plural}.gateway.networking.k8s.io`);
    const release = one(run, TYPES.release);
    for (const needed of [crd("gateways"), crd("httproutes")]) {
      assert.ok(release.dependencies.includes(needed.urn), `release after ${needed.name}`);
      assert.ok(
        crd("referencegrants").dependencies.includes(needed.urn),
        `the rest of the bundle after ${needed.name}`,
      );
    }
    assert.ok(!release.dependencies.includes(crd("referencegrants").urn), "not after the rest of the bundle");
  });

  it("waits after the release until the Gateway controller has set the chart's Gateway Programmed", () => {
    const wait = one(run, TYPES.gatewayPatch);
    assert.deepStrictEqual(wait.inputs.metadata, {
      name: "dot-ai-http",
      namespace: "dot-ai",
      annotations: { "pulumi.com/waitFor": "condition=Programmed", "pulumi.com/timeoutSeconds": "600" },
    });
    assert.deepStrictEqual(Object.keys(wait.inputs).sort(), ["apiVersion", "kind", "metadata"], "nothing but the wait");
    assert.ok(wait.dependencies.includes(one(run, TYPES.release).urn), "after the release that creates the Gateway");
  });

  it("waits as long as waitTimeout says, and not at all with waitForGateway false", async () => {
    const short = await runStack(devSpec({ waitTimeout: "90s" }));
    if (short.error) throw short.error;
    assert.strictEqual(one(short, TYPES.gatewayPatch).inputs.metadata.annotations["pulumi.com/timeoutSeconds"], "90");
    const none = await runStack(devSpec({ waitForGateway: "false" }));
    if (none.error) throw none.error;
    assert.deepStrictEqual(byType(none, TYPES.gatewayPatch), []);
  });

  it("has the chart create its own Gateway with the class, external-dns hostname and HTTP listener", () => {
    const v = one(run, TYPES.release).inputs.values;
    assert.strictEqual(v.gateway.name, undefined, "reference and creation values are exclusive");
    assert.strictEqual(v.gateway.create, true);
    assert.strictEqual(v.gateway.className, "nginx");
    assert.deepStrictEqual(v.gateway.annotations, {
      "external-dns.alpha.kubernetes.io/hostname": "dot-ai.dev.example.com",
    });
    assert.deepStrictEqual(v.gateway.listeners, {
      http: { enabled: true, hostname: "dot-ai.dev.example.com" },
      https: { enabled: false },
    });
    assert.deepStrictEqual(v.gateway.timeouts, { request: "3600s", backendRequest: "3600s" });
  });

  it("adds an HTTPS listener with a TLS Secret and issuer annotation when HTTPS is on", async () => {
    const https = await runStack(devSpec({ https: "true" }));
    if (https.error) throw https.error;
    const v = one(https, TYPES.release).inputs.values;
    assert.deepStrictEqual(v.gateway.listeners.https, {
      enabled: true,
      hostname: "dot-ai.dev.example.com",
      secretName: "dot-ai-tls",
    });
    assert.strictEqual(v.gateway.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    assert.strictEqual(https.outputs.url, "https://dot-ai.dev.example.com");
  });

  it("exports the chart-created Gateway's name and namespace", () => {
    assert.strictEqual(run.outputs.mode, "creation");
    assert.strictEqual(run.outputs.gatewayName, "dot-ai-http");
    assert.strictEqual(run.outputs.gatewayNamespace, "dot-ai");
    assert.strictEqual(run.outputs.url, "http://dot-ai.dev.example.com");
    assert.strictEqual(
      (run.outputs.verify as Record<string, string>).gateway,
      "kubectl get gateway dot-ai-http -n dot-ai",
    );
  });

  it("skips the CRDs when the cluster already ships them", async () => {
    const noCrds = await runStack(devSpec({ installCrds: "false" }));
    if (noCrds.error) throw noCrds.error;
    assert.strictEqual(byType(noCrds, TYPES.crd).length, 0);
    assert.strictEqual(byType(noCrds, TYPES.release).length, 1);
  });

  it("rolls the pods when the token is rotated, and only then", async () => {
    const revision = (r: StackRun) => one(r, TYPES.release).inputs.values.extraEnv;
    const again = await runStack(devSpec());
    const rotated = await runStack(devSpec({ tokenRotation: "2026-11-26" }));
    assert.deepStrictEqual(revision(again), revision(run), "same config, same pod template");
    assert.notDeepStrictEqual(revision(rotated), revision(run), "new token, new pod template");
    assert.deepStrictEqual(one(rotated, TYPES.password).inputs.keepers, { rotation: "2026-11-26" });
  });

  it("rolls the pods when an API key changes", async () => {
    const revision = (r: StackRun) => one(r, TYPES.release).inputs.values.extraEnv[0].value;
    const changed = await runStack(
      devSpec({}, { anthropicApiKey: "sk-ant-other-key", openaiApiKey: "sk-openai-test-1111111111111111" }),
    );
    assert.notStrictEqual(revision(changed), revision(run));
  });

  it("lets another stack name choose its pattern through config", async () => {
    const staging = await runStack({
      ...devSpec({ mode: "reference", hostname: "dot-ai.staging.example.com" }),
      stack: "staging",
    });
    if (staging.error) throw staging.error;
    assert.strictEqual(staging.outputs.mode, "reference");
    assert.strictEqual(byType(staging, TYPES.gateway).length, 1);
    assert.deepStrictEqual(one(staging, TYPES.certificate).inputs.spec.dnsNames, [
      "*.staging.example.com",
      "staging.example.com",
    ]);
  });

  it("labels the app namespace so that a Selector-restricted shared Gateway admits its route", async () => {
    const selector = await runStack({ ...devSpec({ mode: "reference", allowedRoutes: "Selector" }), stack: "staging" });
    if (selector.error) throw selector.error;
    const gw = one(selector, TYPES.gateway);
    const { matchLabels } = gw.inputs.spec.listeners[0].allowedRoutes.namespaces.selector;
    const appNs = byType(selector, TYPES.namespace).find((n) => n.inputs.metadata.name === "dot-ai")!;
    assert.strictEqual(gw.inputs.spec.listeners[0].allowedRoutes.namespaces.from, "Selector");
    for (const [k, v] of Object.entries(matchLabels)) assert.strictEqual(appNs.inputs.metadata.labels[k], v);
  });
});

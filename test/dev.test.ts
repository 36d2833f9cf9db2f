import * as assert from "assert";

import {
  APP_RELEASE,
  StackRun,
  TYPES,
  byType,
  devSpec,
  one,
  runStack,
  bundleCrdNames,
  bundleRelease,
  annotation,
} from "./harness";

describe("dev stack (creation pattern)", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack(devSpec());
    if (run.error) throw run.error;
  });

  it("deploys no platform: no shared Gateway or ReferenceGrant, only the app's namespace and the redirect's", () => {
    for (const type of [TYPES.gateway, TYPES.referenceGrant]) assert.strictEqual(byType(run, type).length, 0, type);
    assert.deepStrictEqual(
      byType(run, TYPES.namespace)
        .map((n) => n.inputs.metadata.name)
        .sort(),
      ["dot-ai", "dot-ai-https-redirect"],
    );
  });

  it("serves HTTPS by default, from a Certificate for the hostname in the app namespace, ready before the release", () => {
    const cert = one(run, TYPES.certificate);
    assert.deepStrictEqual(cert.inputs.metadata, {
      name: "dot-ai-tls",
      namespace: "dot-ai",
      annotations: { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" },
    });
    assert.deepStrictEqual(cert.inputs.spec, {
      secretName: "dot-ai-tls",
      dnsNames: ["dot-ai.dev.example.com"],
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt-prod" },
    });
    assert.ok(
      one(run, TYPES.release, APP_RELEASE).dependencies.includes(cert.urn),
      "the HTTPS listener's Secret comes first",
    );
    assert.strictEqual(run.outputs.url, "https://dot-ai.dev.example.com");
  });

  it("has the chart render only its HTTPS listener, which its route (naming no listener) attaches to", () => {
    const v = one(run, TYPES.release, APP_RELEASE).inputs.values;
    assert.deepStrictEqual(v.gateway.listeners, {
      http: { enabled: false },
      https: { enabled: true, hostname: "dot-ai.dev.example.com", secretName: "dot-ai-tls" },
    });
    assert.strictEqual(v.gateway.annotations["cert-manager.io/cluster-issuer"], undefined, "no second certificate");
  });

  it("adds a port-80 listener to the chart's Gateway that admits only the redirect's namespace, after the release", () => {
    const listener = byType(run, TYPES.gatewayPatch).find((p) => p.inputs.spec)!;
    assert.strictEqual(listener.inputs.metadata.name, "dot-ai-http");
    assert.strictEqual(
      listener.inputs.metadata.annotations["pulumi.com/patchForce"],
      undefined,
      "never takes a field over from the chart (its deletion would then remove it)",
    );
    assert.strictEqual(listener.inputs.metadata.namespace, "dot-ai");
    assert.deepStrictEqual(listener.inputs.spec.listeners, [
      // The chart's HTTPS listener as the chart renders it (so the patch diffs cleanly), then port 80.
      {
        name: "https",
        protocol: "HTTPS",
        port: 443,
        hostname: "dot-ai.dev.example.com",
        tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "dot-ai-tls" }] },
        allowedRoutes: { namespaces: { from: "Same" } },
      },
      {
        name: "http-redirect",
        protocol: "HTTP",
        port: 80,
        hostname: "dot-ai.dev.example.com",
        allowedRoutes: {
          namespaces: {
            from: "Selector",
            selector: { matchLabels: { "kubernetes.io/metadata.name": "dot-ai-https-redirect" } },
          },
        },
      },
    ]);
    assert.ok(
      one(run, TYPES.gatewayPatch, "dot-ai-https-redirect-listener").dependencies.includes(
        one(run, TYPES.release, APP_RELEASE).urn,
      ),
      "after the release that creates the Gateway",
    );
  });

  it("re-applies that listener whenever a release upgrade could have rewritten the chart's listeners", async () => {
    const key = (r: StackRun) => JSON.stringify(byType(r, TYPES.gatewayPatch).find((p) => p.inputs.spec)!.inputs);
    const other = await runStack(devSpec({ tlsSecretName: "other-tls" }));
    const older = await runStack(devSpec({ chart: "test/charts/dot-ai-1.25.0.tgz" }));
    const rotated = await runStack(devSpec({ tokenRotation: "again" }));
    assert.notStrictEqual(key(other), key(run), "another TLS Secret");
    assert.notStrictEqual(key(older), key(run), "another chart version");
    assert.strictEqual(key(rotated), key(run), "a token rotation leaves the Gateway alone");
  });

  it("answers plain HTTP for the hostname with a redirect to HTTPS and forwards nothing, from the redirect's own namespace", () => {
    const route = one(run, TYPES.httpRoute);
    assert.deepStrictEqual(route.inputs.metadata, {
      name: "dot-ai-http-https-redirect",
      namespace: "dot-ai-https-redirect",
    });
    assert.deepStrictEqual(route.inputs.spec, {
      parentRefs: [
        {
          group: "gateway.networking.k8s.io",
          kind: "Gateway",
          name: "dot-ai-http",
          namespace: "dot-ai",
          sectionName: "http-redirect",
        },
      ],
      hostnames: ["dot-ai.dev.example.com"],
      rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
    });
  });

  it("serves plain HTTP too only with allowPlaintextHttp, and says on every run what crosses in clear", async () => {
    const both = await runStack(devSpec({ allowPlaintextHttp: "true" }));
    if (both.error) throw both.error;
    assert.deepStrictEqual(one(both, TYPES.release, APP_RELEASE).inputs.values.gateway.listeners.http, {
      enabled: true,
      hostname: "dot-ai.dev.example.com",
    });
    assert.deepStrictEqual(byType(both, TYPES.httpRoute), [], "no redirect: port 80 serves dot-ai");
    assert.ok(
      both.warnings.some((w) => /allowPlaintextHttp is true.*bearer token/.test(w)),
      both.warnings.join("\n"),
    );
    assert.ok(!run.warnings.some((w) => /allowPlaintextHttp/.test(w)), "no warning without the opt-in");
  });

  it("refuses https false unless allowPlaintextHttp says so; then HTTP only, with no Certificate", async () => {
    const refused = await runStack(devSpec({ https: "false" }));
    assert.match(String(refused.error), /dot-ai-gateway:https is false.*in clear|cross the network unencrypted/s);
    assert.match(String(refused.error), /allowPlaintextHttp true/);
    assert.deepStrictEqual(refused.resources, [], "nothing registered");
    const plain = await runStack(devSpec({ https: "false", allowPlaintextHttp: "true" }));
    if (plain.error) throw plain.error;
    assert.deepStrictEqual(one(plain, TYPES.release, APP_RELEASE).inputs.values.gateway.listeners, {
      http: { enabled: true, hostname: "dot-ai.dev.example.com" },
      https: { enabled: false },
    });
    assert.deepStrictEqual(byType(plain, TYPES.certificate), []);
    assert.strictEqual(plain.outputs.url, "http://dot-ai.dev.example.com");
  });

  it("refuses a cert-manager shim annotation, which would issue a second certificate into the same Secret", async () => {
    const refused = await runStack(
      devSpec({ gatewayAnnotations: JSON.stringify({ "cert-manager.io/cluster-issuer": "other" }) }),
    );
    assert.match(String(refused.error), /gatewayAnnotations sets 'cert-manager.io\/cluster-issuer'/);
  });

  it("still installs the Gateway API CRDs (kept on destroy); the release waits for the bundle's release", () => {
    const bundle = bundleRelease(run);
    assert.deepStrictEqual(bundleCrdNames(run).length, 3);
    for (const o of bundle.objects) assert.strictEqual(annotation(o, "helm.sh/resource-policy"), "keep");
    assert.ok(one(run, TYPES.release, APP_RELEASE).dependencies.includes(bundle.release.urn));
  });

  it("creates the namespace, token, Secret and Certificate while the bundle installs: only the release waits for it", () => {
    // The engine holds back a component's children until what the component depends on is done.
    const bundle = bundleRelease(run).release.urn;
    const app = run.resources.find((r) => r.type === "dot-ai-gateway:app:DotAi");
    assert.ok(app, "the DotAi component");
    assert.deepStrictEqual(app.dependencies, []);
    for (const type of [TYPES.namespace, TYPES.password, TYPES.secret, TYPES.certificate]) {
      const child = byType(run, type).find((r) => r.parent === app.urn);
      assert.ok(child, type);
      assert.ok(!child.dependencies.includes(bundle), `${type} does not wait for the bundle`);
    }
  });

  it("waits after the release until the Gateway controller has set the chart's Gateway Programmed", () => {
    const wait = one(run, TYPES.gatewayPatch, "dot-ai-gateway-programmed");
    assert.deepStrictEqual(wait.inputs.metadata, {
      name: "dot-ai-http",
      namespace: "dot-ai",
      annotations: { "pulumi.com/waitFor": "condition=Programmed" },
    });
    assert.deepStrictEqual(Object.keys(wait.inputs).sort(), ["apiVersion", "kind", "metadata"], "nothing but the wait");
    assert.deepStrictEqual(
      wait.customTimeouts,
      { create: "600s", update: "600s", delete: "" },
      "10 minutes by default",
    );
    // The provider may record a copy of the Gateway from just before the patch as its live state
    // (components/await.ts, waitPatch): the constant annotation must not show up as a change.
    assert.deepStrictEqual(wait.ignoreChanges, ["metadata.annotations"]);
    assert.ok(
      wait.dependencies.includes(one(run, TYPES.release, APP_RELEASE).urn),
      "after the release that creates the Gateway",
    );
  });

  it("waits as long as waitTimeout says, and not at all with waitForGateway false", async () => {
    const short = await runStack(devSpec({ waitTimeout: "90s" }));
    if (short.error) throw short.error;
    const wait = (r: StackRun) => byType(r, TYPES.gatewayPatch).filter((p) => p.name === "dot-ai-gateway-programmed");
    assert.deepStrictEqual(wait(short)[0].customTimeouts, { create: "90s", update: "90s", delete: "" });
    const none = await runStack(devSpec({ waitForGateway: "false" }));
    if (none.error) throw none.error;
    assert.deepStrictEqual(wait(none), []);
  });

  it("has the chart create its own Gateway with the class, external-dns hostname and timeouts", () => {
    const v = one(run, TYPES.release, APP_RELEASE).inputs.values;
    assert.strictEqual(v.gateway.name, undefined, "reference and creation values are exclusive");
    assert.strictEqual(v.gateway.create, true);
    assert.strictEqual(v.gateway.className, "nginx");
    assert.deepStrictEqual(v.gateway.annotations, {
      "external-dns.alpha.kubernetes.io/hostname": "dot-ai.dev.example.com",
    });
    assert.deepStrictEqual(v.gateway.timeouts, { request: "3600s", backendRequest: "3600s" });
  });

  it("exports the chart-created Gateway's name and namespace", () => {
    assert.strictEqual(run.outputs.mode, "creation");
    assert.strictEqual(run.outputs.gatewayName, "dot-ai-http");
    assert.strictEqual(run.outputs.gatewayNamespace, "dot-ai");
    assert.strictEqual(
      (run.outputs.verify as Record<string, string>).gateway,
      "kubectl get gateway dot-ai-http -n dot-ai",
    );
  });

  it("skips the CRDs when the cluster already ships them", async () => {
    const noCrds = await runStack(devSpec({ installCrds: "false" }));
    if (noCrds.error) throw noCrds.error;
    assert.strictEqual(byType(noCrds, TYPES.crd).length, 0);
    assert.strictEqual(byType(noCrds, TYPES.release).filter((r) => r.name === APP_RELEASE).length, 1);
  });

  it("rolls the pods when the token is rotated, and only then", async () => {
    const revision = (r: StackRun) => one(r, TYPES.release, APP_RELEASE).inputs.values.extraEnv;
    const again = await runStack(devSpec());
    const rotated = await runStack(devSpec({ tokenRotation: "2026-11-26" }));
    assert.deepStrictEqual(revision(again), revision(run), "same config, same pod template");
    assert.notDeepStrictEqual(revision(rotated), revision(run), "new token, new pod template");
    assert.deepStrictEqual(one(rotated, TYPES.password).inputs.keepers, { rotation: "2026-11-26" });
  });

  it("rolls the pods when an API key changes", async () => {
    const revision = (r: StackRun) => one(r, TYPES.release, APP_RELEASE).inputs.values.extraEnv[0].value;
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
    const https = gw.inputs.spec.listeners.find((l: { name: string }) => l.name === "https");
    const { matchLabels } = https.allowedRoutes.namespaces.selector;
    const appNs = byType(selector, TYPES.namespace).find((n) => n.inputs.metadata.name === "dot-ai")!;
    assert.strictEqual(https.allowedRoutes.namespaces.from, "Selector");
    for (const [k, v] of Object.entries(matchLabels)) assert.strictEqual(appNs.inputs.metadata.labels[k], v);
  });
});

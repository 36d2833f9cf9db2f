import * as assert from "assert";

import {
  APP_RELEASE,
  KEYS,
  MOCK_TOKEN,
  StackRun,
  TYPES,
  byType,
  isWrappedSecret,
  one,
  prodSpec,
  runStack,
  bundleCrdNames,
  bundleRelease,
  annotation,
} from "./harness";

describe("prod stack (reference pattern)", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack(prodSpec());
    if (run.error) throw run.error;
  });

  it("installs the Gateway API CRDs from the configured manifest and keeps them on destroy", () => {
    assert.deepStrictEqual(bundleCrdNames(run), [
      "gateways.gateway.networking.k8s.io",
      "httproutes.gateway.networking.k8s.io",
      "referencegrants.gateway.networking.k8s.io",
    ]);
    for (const o of bundleRelease(run).objects) {
      assert.strictEqual(
        annotation(o, "helm.sh/resource-policy"),
        "keep",
        `${o.metadata.name} must survive pulumi destroy`,
      );
    }
  });

  it("creates the platform namespace and the app namespace", () => {
    const names = byType(run, TYPES.namespace)
      .map((n) => n.inputs.metadata.name)
      .sort();
    assert.deepStrictEqual(names, ["dot-ai", "gateway-system"]);
  });

  it("issues a wildcard certificate for the domain and waits for it to be Ready", () => {
    const cert = one(run, TYPES.certificate);
    assert.strictEqual(cert.inputs.metadata.namespace, "gateway-system");
    assert.deepStrictEqual(cert.inputs.spec.dnsNames, ["*.example.com", "example.com"]);
    assert.deepStrictEqual(cert.inputs.spec.issuerRef, {
      group: "cert-manager.io",
      kind: "ClusterIssuer",
      name: "letsencrypt-prod",
    });
    assert.strictEqual(cert.inputs.spec.secretName, "wildcard-tls");
    assert.strictEqual(cert.inputs.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
  });

  it("creates one shared Gateway with HTTP 80 and HTTPS 443 serving the wildcard certificate", () => {
    const gw = one(run, TYPES.gateway);
    assert.strictEqual(gw.inputs.metadata.name, "cluster-gateway");
    assert.strictEqual(gw.inputs.metadata.namespace, "gateway-system");
    assert.strictEqual(gw.inputs.spec.gatewayClassName, "nginx");
    const [http, https] = gw.inputs.spec.listeners;
    assert.deepStrictEqual([http.name, http.protocol, http.port], ["http", "HTTP", 80]);
    assert.deepStrictEqual([https.name, https.protocol, https.port], ["https", "HTTPS", 443]);
    assert.deepStrictEqual(https.tls, {
      mode: "Terminate",
      certificateRefs: [{ group: "", kind: "Secret", name: "wildcard-tls" }],
    });
    assert.deepStrictEqual(https.allowedRoutes, { namespaces: { from: "All" } });
    assert.deepStrictEqual(http.allowedRoutes, { namespaces: { from: "Same" } }, "port 80 admits no app route");
    assert.strictEqual(gw.inputs.metadata.annotations["pulumi.com/waitFor"], "condition=Programmed");
  });

  it("creates the Gateway only after the bundle's CRDs and the Certificate", () => {
    const gw = one(run, TYPES.gateway);
    for (const dep of [bundleRelease(run).release, one(run, TYPES.certificate)]) {
      assert.ok(gw.dependencies.includes(dep.urn), `Gateway must depend on ${dep.name}`);
    }
  });

  it("protects nothing: a combined stack is destroyed as it always was (only platform stacks protect their Gateway)", () => {
    assert.deepStrictEqual(
      run.resources.filter((r) => r.protect).map((r) => r.name),
      [],
    );
  });

  it("grants HTTPRoutes from the app namespace a reference to the Gateway, by name only", () => {
    const grant = one(run, TYPES.referenceGrant);
    assert.strictEqual(grant.inputs.metadata.namespace, "gateway-system");
    assert.deepStrictEqual(grant.inputs.spec, {
      from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "dot-ai" }],
      to: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "cluster-gateway" }],
    });
  });

  it("installs the dot-ai release by its explicit name, with its HTTPRoute attached to the shared Gateway", () => {
    const release = one(run, TYPES.release, APP_RELEASE);
    assert.strictEqual(release.inputs.name, "dot-ai");
    assert.strictEqual(release.inputs.namespace, "dot-ai");
    assert.strictEqual(release.inputs.createNamespace, false);
    const v = release.inputs.values;
    assert.strictEqual(v.deployment, undefined, "2.2.2 has no deployment.method");
    assert.deepStrictEqual(v.ingress, { enabled: false });
    assert.deepStrictEqual(v.ai, { provider: "anthropic" });
    assert.deepStrictEqual(v.qdrant, { enabled: true });
    assert.strictEqual(v.gateway.name, "cluster-gateway");
    assert.strictEqual(v.gateway.namespace, "gateway-system");
    assert.strictEqual(v.gateway.create, undefined, "reference and creation values are exclusive");
    assert.deepStrictEqual(v.gateway.timeouts, { request: "3600s", backendRequest: "3600s" });
    assert.deepStrictEqual(v.gateway.listeners, { http: { hostname: "dot-ai.example.com" } });
  });

  it("pulls the published chart at the configured version when no local chart is given", async () => {
    const spec = prodSpec({ chartVersion: "2.2.2" });
    delete spec.config!.chart;
    const remote = await runStack(spec);
    if (remote.error) throw remote.error;
    const release = one(remote, TYPES.release, APP_RELEASE);
    assert.strictEqual(release.inputs.chart, "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai");
    assert.strictEqual(release.inputs.version, "2.2.2");
  });

  it("installs the release only after the Secret and the shared Gateway", () => {
    const release = one(run, TYPES.release, APP_RELEASE);
    assert.ok(release.dependencies.includes(one(run, TYPES.secret).urn), "release after Secret");
    assert.ok(release.dependencies.includes(one(run, TYPES.gateway).urn), "release after Gateway");
  });

  it("keeps the token and API keys in a Kubernetes Secret under the key names the chart reads", () => {
    const secret = one(run, TYPES.secret);
    assert.strictEqual(secret.inputs.metadata.name, "dot-ai-secrets");
    assert.strictEqual(secret.inputs.metadata.namespace, "dot-ai");
    assert.ok(
      isWrappedSecret(secret.rawInputs && (secret.rawInputs as Record<string, unknown>).stringData),
      "stringData is sent as a secret",
    );
    const keyNames = one(run, TYPES.release, APP_RELEASE).inputs.values.secrets;
    assert.strictEqual(keyNames.name, secret.inputs.metadata.name);
    const data = secret.inputs.stringData;
    assert.strictEqual(data[keyNames.auth.keyName], `${MOCK_TOKEN}-initial`);
    assert.strictEqual(data[keyNames.anthropic.keyName], KEYS.anthropicApiKey);
    assert.strictEqual(data[keyNames.openai.keyName], KEYS.openaiApiKey);
    assert.deepStrictEqual(Object.keys(data).sort(), ["anthropic-api-key", "auth-token", "openai-api-key"]);
  });

  it("puts no secret value into the Helm values, so the chart renders no Secret of its own", () => {
    const values = JSON.stringify(one(run, TYPES.release, APP_RELEASE).inputs.values);
    for (const secret of [MOCK_TOKEN, KEYS.anthropicApiKey, KEYS.openaiApiKey]) assert.ok(!values.includes(secret));
    const secrets = one(run, TYPES.release, APP_RELEASE).inputs.values.secrets;
    for (const entry of Object.values(secrets)) {
      if (typeof entry === "object" && entry !== null) assert.deepStrictEqual(Object.keys(entry), ["keyName"]);
    }
  });

  it("updates the Secret in place on rotation, never deleting it first (a pod starting meanwhile would find no token)", () => {
    const provider = one(run, TYPES.kubernetesProvider);
    assert.ok([true, "true"].includes(provider.inputs.enableSecretMutable), "enableSecretMutable");
    const kubernetesObjects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    assert.ok(kubernetesObjects.length > 0);
    for (const r of kubernetesObjects)
      assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.type} ${r.name} uses it`);
  });

  it("generates a strong, header-safe token that only rotates on request", () => {
    const password = one(run, TYPES.password);
    assert.ok(password.inputs.length >= 43, "at least 256 bits from 62 symbols");
    assert.strictEqual(password.inputs.special, false);
    assert.deepStrictEqual(password.inputs.keepers, { rotation: "initial" });
  });

  it("exports the mode, Gateway, URL and checks, with token and MCP config as secrets", () => {
    const o = run.outputs;
    assert.strictEqual(o.mode, "reference");
    assert.strictEqual(o.gatewayName, "cluster-gateway");
    assert.strictEqual(o.gatewayNamespace, "gateway-system");
    assert.strictEqual(o.gatewayAddress, "pending");
    assert.strictEqual(o.url, "https://dot-ai.example.com");
    assert.ok(run.secretOutputs.has("authToken") && run.secretOutputs.has("mcpConfig"));
    assert.ok(!run.secretOutputs.has("url"));
    const mcp = JSON.parse(o.mcpConfig as string);
    assert.deepStrictEqual(mcp.mcpServers["dot-ai"], {
      url: "https://dot-ai.example.com",
      transport: "http",
      headers: { Authorization: `Bearer ${MOCK_TOKEN}-initial` },
    });
    const verify = o.verify as Record<string, string>;
    assert.strictEqual(verify.gateway, "kubectl get gateway cluster-gateway -n gateway-system");
    assert.match(
      verify.mcp,
      /^curl -sS -N -H "Authorization: Bearer \$\(pulumi stack output authToken --show-secrets\)" .* -d '\{"jsonrpc":"2\.0","id":1,"method":"initialize",.*\}' https:\/\/dot-ai\.example\.com$/,
    );
    assert.ok(!JSON.stringify(verify).includes(MOCK_TOKEN), "commands read the token, they do not embed it");
  });
});

/**
 * The program applied for real: the Pulumi engine, the Kubernetes provider and Helm against a
 * local API server holding the real Gateway API v1.2.1 and cert-manager CRDs, with kwok making
 * pods Ready. Assertions read the API server, not Pulumi's view of it.
 */
import * as assert from "assert";

import { KubeObject, eventually, exists, kubectlJson, pulumi } from "./tools";

const GATEWAY_API_CRDS = ["gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants"].map(
  (k) => `${k}.gateway.networking.k8s.io`,
);
const KEYS = ["local-anthropic-key-not-real", "local-openai-key-not-real"];

interface Expected {
  stack: string;
  hostname: string;
  parentRef: KubeObject;
  namespaces: string[];
}

const STACKS: Expected[] = [
  {
    stack: "dev",
    hostname: "dot-ai.dev.example.com",
    parentRef: { group: "gateway.networking.k8s.io", kind: "Gateway", name: "dot-ai-http" },
    namespaces: ["dot-ai"],
  },
  {
    stack: "prod",
    hostname: "dot-ai.example.com",
    parentRef: {
      group: "gateway.networking.k8s.io",
      kind: "Gateway",
      name: "cluster-gateway",
      namespace: "gateway-system",
    },
    namespaces: ["dot-ai", "gateway-system"],
  },
];

function secretData(): Record<string, string> {
  const secret = kubectlJson(["get", "secret", "dot-ai-secrets", "-n", "dot-ai"]);
  return Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
  );
}

function podTemplateRevision(): string | undefined {
  const deploy = kubectlJson(["get", "deployment", "dot-ai", "-n", "dot-ai"]);
  const container = deploy.spec.template.spec.containers.find((c: KubeObject) => c.name === "dot-ai");
  return container.env.find((e: KubeObject) => e.name === "DOT_AI_SECRETS_REVISION")?.value;
}

function deploymentReady(): boolean {
  const deploy = kubectlJson(["get", "deployment", "dot-ai", "-n", "dot-ai"]);
  return deploy.status?.readyReplicas === 1 && deploy.status?.updatedReplicas === 1 && deploy.status?.replicas === 1;
}

for (const expected of STACKS) {
  const { stack } = expected;
  describe(`${stack} stack on a real API server`, () => {
    before(() => {
      pulumi(stack, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
    });

    it("creates the namespaces and the retained Gateway API CRDs", () => {
      for (const ns of expected.namespaces) assert.ok(exists(["namespace", ns]), `namespace ${ns}`);
      for (const crd of GATEWAY_API_CRDS) assert.ok(exists(["crd", crd]), crd);
    });

    if (stack === "prod") {
      it("creates the shared Gateway, the wildcard Certificate and the ReferenceGrant", () => {
        const gw = kubectlJson(["get", "gateway", "cluster-gateway", "-n", "gateway-system"]);
        assert.strictEqual(gw.spec.gatewayClassName, "nginx");
        const listeners = gw.spec.listeners.map((l: KubeObject) => [l.name, l.port, l.protocol]);
        assert.deepStrictEqual(listeners, [
          ["http", 80, "HTTP"],
          ["https", 443, "HTTPS"],
        ]);
        assert.strictEqual(gw.spec.listeners[1].tls.certificateRefs[0].name, "wildcard-tls");
        assert.strictEqual(gw.spec.listeners[0].allowedRoutes.namespaces.from, "Selector");
        const labels = kubectlJson(["get", "namespace", "dot-ai"]).metadata.labels;
        for (const [k, v] of Object.entries(gw.spec.listeners[0].allowedRoutes.namespaces.selector.matchLabels)) {
          assert.strictEqual(labels[k], v, `app namespace carries ${k}=${v}`);
        }
        const cert = kubectlJson(["get", "certificate", "wildcard", "-n", "gateway-system"]);
        assert.deepStrictEqual(cert.spec.dnsNames, ["*.example.com", "example.com"]);
        assert.strictEqual(cert.spec.issuerRef.name, "letsencrypt-prod");
        const grant = kubectlJson(["get", "referencegrant", "cluster-gateway-routes", "-n", "gateway-system"]);
        assert.deepStrictEqual(grant.spec.from, [
          { group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "dot-ai" },
        ]);
      });
    } else {
      it("has the chart create its own Gateway with the class and the external-dns hostname", () => {
        const gw = kubectlJson(["get", "gateway", "dot-ai-http", "-n", "dot-ai"]);
        assert.strictEqual(gw.spec.gatewayClassName, "nginx");
        assert.strictEqual(gw.metadata.annotations["external-dns.alpha.kubernetes.io/hostname"], expected.hostname);
        assert.deepStrictEqual(
          gw.spec.listeners.map((l: KubeObject) => [l.name, l.port, l.hostname]),
          [["http", 80, expected.hostname]],
        );
        assert.ok(!exists(["gateway", "cluster-gateway", "-n", "gateway-system"]));
      });
    }

    it("stores the token and keys in the Secret the chart reads, and the chart renders none of its own", () => {
      const data = secretData();
      assert.deepStrictEqual(Object.keys(data).sort(), ["anthropic-api-key", "auth-token", "openai-api-key"]);
      assert.match(data["auth-token"], /^[A-Za-z0-9]{48}$/);
      assert.strictEqual(data["anthropic-api-key"], KEYS[0]);
      const secrets = kubectlJson(["get", "secret", "-n", "dot-ai"]).items.map((s: KubeObject) => s.metadata.name);
      assert.ok(secrets.includes("dot-ai-secrets"));
      assert.ok(
        !secrets.some((n: string) => n !== "dot-ai-secrets" && !n.startsWith("sh.helm.release.")),
        secrets.join(),
      );
    });

    it("installs the Helm release dot-ai", () => {
      const releases = kubectlJson(["get", "secret", "-n", "dot-ai", "-l", "owner=helm,name=dot-ai"]).items;
      assert.ok(releases.length >= 1);
      assert.ok(releases.some((r: KubeObject) => r.metadata.labels.status === "deployed"));
    });

    it("renders the HTTPRoute attached to the right Gateway, for the hostname, with SSE-friendly timeouts", () => {
      const route = kubectlJson(["get", "httproute", "dot-ai", "-n", "dot-ai"]);
      assert.deepStrictEqual(route.spec.parentRefs, [expected.parentRef]);
      assert.deepStrictEqual(route.spec.hostnames, [expected.hostname]);
      assert.deepStrictEqual(route.spec.rules[0].timeouts, { request: "3600s", backendRequest: "3600s" });
      assert.deepStrictEqual(
        route.spec.rules[0].backendRefs.map((b: KubeObject) => [b.name, b.port]),
        [["dot-ai", 3456]],
      );
    });

    it("has the dot-ai Deployment Ready", async () => {
      await eventually("the dot-ai Deployment to be Ready", deploymentReady);
    });

    it("is idempotent: a second preview shows no changes", () => {
      pulumi(stack, ["preview", "--expect-no-changes", "--suppress-progress"]);
    });

    it("rotates the token through config: the Secret changes, the pods roll, nothing else is replaced", async () => {
      const tokenBefore = secretData()["auth-token"];
      const revisionBefore = podTemplateRevision();
      assert.ok(revisionBefore, "the pod template carries the secrets revision");

      pulumi(stack, ["config", "set", "dot-ai-gateway:tokenRotation", "e2e-rotation"]);
      const preview = JSON.parse(pulumi(stack, ["preview", "--json", "--suppress-progress"]).stdout) as {
        steps: { op: string; urn: string }[];
      };
      const changed = preview.steps.filter((s) => s.op !== "same");
      const replaced = changed.filter((s) => /replace/.test(s.op)).map((s) => s.urn.split("::").pop());
      assert.deepStrictEqual(
        [...new Set(replaced)],
        ["auth-token"],
        `only the token is replaced: ${JSON.stringify(changed)}`,
      );
      const updated = changed.filter((s) => s.op === "update").map((s) => s.urn.split("::").pop());
      assert.deepStrictEqual(updated.sort(), ["dot-ai", "dot-ai-secrets"]);

      pulumi(stack, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
      assert.notStrictEqual(secretData()["auth-token"], tokenBefore);
      assert.notStrictEqual(podTemplateRevision(), revisionBefore);
      await eventually("the rolled Deployment to be Ready", deploymentReady);
    });

    it("keeps no plaintext token or API key in the exported state", () => {
      const token = pulumi(stack, ["stack", "output", "authToken", "--show-secrets"]).stdout.trim();
      assert.match(token, /^[A-Za-z0-9]{48}$/);
      const state = pulumi(stack, ["stack", "export"]).stdout;
      for (const secret of [token, ...KEYS])
        assert.ok(!state.includes(secret), "a secret value is in plaintext in the state");
      // `stack output` prints a string output as is: here, the .mcp.json document.
      const mcp = JSON.parse(pulumi(stack, ["stack", "output", "mcpConfig", "--show-secrets"]).stdout);
      assert.strictEqual(mcp.mcpServers["dot-ai"].headers.Authorization, `Bearer ${token}`);
    });

    it("destroys everything it made except the retained CRDs", async () => {
      pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
      for (const ns of expected.namespaces) {
        await eventually(`namespace ${ns} to be deleted`, () => !exists(["namespace", ns]));
      }
      for (const crd of GATEWAY_API_CRDS) assert.ok(exists(["crd", crd]), `${crd} is retained`);
    });
  });
}

describe("a bad configuration on a real engine", () => {
  it("fails preview and up with the program's message and creates nothing", () => {
    const stack = "broken";
    pulumi(stack, ["stack", "init"], { allowFailure: true });
    pulumi(stack, ["config", "set", "dot-ai-gateway:mode", "creation"]);
    pulumi(stack, ["config", "set", "dot-ai-gateway:hostname", "Not_A_Host"]);
    pulumi(stack, ["config", "set", "dot-ai-gateway:namespace", "broken-e2e"]);
    pulumi(stack, ["config", "set", "dot-ai-gateway:gatewayClassName", "nginx"]);
    for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
      const res = pulumi(stack, [...command, "--suppress-progress"], { allowFailure: true });
      assert.notStrictEqual(res.status, 0);
      const output = res.stdout + res.stderr;
      assert.match(output, /Invalid configuration \(2 problems\); nothing was deployed/);
      assert.match(output, /dot-ai-gateway:hostname 'Not_A_Host'/);
      assert.match(output, /pulumi config set --secret dot-ai-gateway:anthropicApiKey/);
    }
    assert.ok(!exists(["namespace", "broken-e2e"]));
    const state = JSON.parse(pulumi(stack, ["stack", "export"]).stdout);
    const resources = (state.deployment?.resources ?? []).filter((r: KubeObject) => r.type !== "pulumi:pulumi:Stack");
    assert.deepStrictEqual(resources, []);
  });
});

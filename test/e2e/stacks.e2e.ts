/**
 * The program applied for real, per stack and per real chart version: the Pulumi engine, the
 * Kubernetes provider and Helm against a local API server on which Envoy Gateway and cert-manager
 * run, with kwok making pods Ready and the PV controller binding the bundled Qdrant's claim. The
 * program's waits are on. Assertions read the API server: the objects as it holds them and the
 * status the controllers wrote, not Pulumi's view of either.
 */
import * as assert from "assert";
import { X509Certificate } from "crypto";

import {
  APP_NS,
  CHART_VERSIONS,
  KEYS,
  deployment,
  deploymentReady,
  deploymentsOf,
  podTemplateRevision,
  qdrantReady,
  secretData,
} from "./dot-ai";
import {
  EG_CONTROLLER,
  GATEWAY_CLASS,
  KubeObject,
  chartPackage,
  describeConditions,
  eventually,
  exists,
  gatewayApiBundle,
  isTrue,
  kubectl,
  kubectlJson,
  pulumi,
  pulumiUp,
  setConfig,
  timeSuite,
} from "./tools";

const SHARED = { name: "cluster-gateway", namespace: "gateway-system" };

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
    namespaces: [APP_NS],
  },
  {
    stack: "prod",
    hostname: "dot-ai.example.com",
    parentRef: { group: "gateway.networking.k8s.io", kind: "Gateway", ...SHARED },
    namespaces: [APP_NS, SHARED.namespace],
  },
];

function gateway(name: string, namespace: string): KubeObject {
  return kubectlJson(["get", "gateway", name, "-n", namespace]);
}

function route(): KubeObject {
  return kubectlJson(["get", "httproute", "dot-ai", "-n", APP_NS]);
}

/** The route's status entry written by Envoy Gateway for the parent `name` in `namespace`. */
function routeParent(r: KubeObject, name: string, namespace: string): KubeObject | undefined {
  return (r.status?.parents ?? []).find(
    (p: KubeObject) =>
      p.controllerName === EG_CONTROLLER &&
      p.parentRef.name === name &&
      (p.parentRef.namespace ?? r.metadata.namespace) === namespace,
  );
}

function listener(gw: KubeObject, name: string): KubeObject | undefined {
  return (gw.status?.listeners ?? []).find((l: KubeObject) => l.name === name);
}

/** The DNS names in the subjectAltName of a PEM certificate. */
function dnsNames(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? "";
  return san
    .split(", ")
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4))
    .sort();
}

for (const expected of STACKS) {
  for (const version of CHART_VERSIONS) {
    const { stack } = expected;
    // The claims about the shared Gateway's controller hold for any chart: checked once, on the default.
    const checkDocsClaims = stack === "prod" && version === CHART_VERSIONS[CHART_VERSIONS.length - 1];
    const title = `${stack} stack, chart ${version}, real controllers`;

    describe(title, () => {
      timeSuite(title);
      before(() => {
        setConfig(stack, { chart: chartPackage(version) });
        pulumiUp(stack);
      });

      it("creates the namespaces and the retained Gateway API bundle (CRDs, safe-upgrades policy)", () => {
        for (const ns of expected.namespaces) assert.ok(exists(["namespace", ns]), `namespace ${ns}`);
        for (const object of gatewayApiBundle()) assert.ok(exists(object), object.join(" "));
      });

      if (stack === "prod") {
        it("creates the shared Gateway, the wildcard Certificate and the ReferenceGrant", () => {
          const gw = gateway(SHARED.name, SHARED.namespace);
          assert.strictEqual(gw.spec.gatewayClassName, GATEWAY_CLASS);
          const listeners = gw.spec.listeners.map((l: KubeObject) => [l.name, l.port, l.protocol]);
          assert.deepStrictEqual(listeners, [
            ["http", 80, "HTTP"],
            ["https", 443, "HTTPS"],
          ]);
          assert.strictEqual(gw.spec.listeners[1].tls.certificateRefs[0].name, "wildcard-tls");
          assert.strictEqual(gw.spec.listeners[0].allowedRoutes.namespaces.from, "Selector");
          const labels = kubectlJson(["get", "namespace", APP_NS]).metadata.labels;
          for (const [k, v] of Object.entries(gw.spec.listeners[0].allowedRoutes.namespaces.selector.matchLabels)) {
            assert.strictEqual(labels[k], v, `app namespace carries ${k}=${v}`);
          }
          const cert = kubectlJson(["get", "certificate", "wildcard", "-n", SHARED.namespace]);
          assert.deepStrictEqual(cert.spec.dnsNames, ["*.example.com", "example.com"]);
          assert.strictEqual(cert.spec.issuerRef.name, "letsencrypt-prod");
          const grant = kubectlJson(["get", "referencegrant", "cluster-gateway-routes", "-n", SHARED.namespace]);
          assert.deepStrictEqual(grant.spec.from, [
            { group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: APP_NS },
          ]);
        });

        it("has cert-manager issue the Certificate: Ready, its Secret for exactly *.example.com and example.com", () => {
          const cert = kubectlJson(["get", "certificate", "wildcard", "-n", SHARED.namespace]);
          assert.ok(isTrue(cert, "Ready"), describeConditions(cert));
          const secret = kubectlJson(["get", "secret", "wildcard-tls", "-n", SHARED.namespace]);
          const pem = Buffer.from(secret.data["tls.crt"], "base64").toString();
          assert.deepStrictEqual(dnsNames(pem), ["*.example.com", "example.com"]);
        });

        it("has Envoy Gateway program the shared Gateway and both listeners, counting dot-ai's route", async () => {
          // `pulumi up` waited for Programmed; the listeners' route counts may follow the release.
          let gw: KubeObject = {};
          await eventually(
            "the shared Gateway and its listeners to be Programmed with dot-ai's route attached",
            () => {
              gw = gateway(SHARED.name, SHARED.namespace);
              return (
                isTrue(gw, "Accepted") &&
                isTrue(gw, "Programmed") &&
                ["http", "https"].every((l) => isTrue(gw, "Programmed", listener(gw, l))) &&
                ["http", "https"].every((l) => listener(gw, l)?.attachedRoutes === 1)
              );
            },
            60_000,
            () => JSON.stringify(gw.status),
          );
          assert.ok(isTrue(gw, "ResolvedRefs", listener(gw, "https")), describeConditions(listener(gw, "https")));
          assert.ok((gw.status.addresses ?? []).length > 0, "the Gateway has an address");
        });

        it("has Envoy Gateway accept dot-ai's HTTPRoute on the shared Gateway and resolve its backend", async () => {
          let parent: KubeObject | undefined;
          await eventually(
            `${EG_CONTROLLER} to accept the route`,
            () => {
              const r = route();
              parent = routeParent(r, SHARED.name, SHARED.namespace);
              return !!parent && isTrue(r, "Accepted", parent) && isTrue(r, "ResolvedRefs", parent);
            },
            60_000,
            () => JSON.stringify(route().status),
          );
        });
      } else {
        it("has the chart create its own Gateway with the class and the external-dns hostname", () => {
          const gw = gateway("dot-ai-http", APP_NS);
          assert.strictEqual(gw.spec.gatewayClassName, GATEWAY_CLASS);
          assert.strictEqual(gw.metadata.annotations["external-dns.alpha.kubernetes.io/hostname"], expected.hostname);
          assert.deepStrictEqual(
            gw.spec.listeners.map((l: KubeObject) => [l.name, l.port, l.hostname]),
            [["http", 80, expected.hostname]],
          );
          assert.ok(!exists(["gateway", SHARED.name, "-n", SHARED.namespace]));
        });

        it("has `pulumi up` return only once Envoy Gateway has programmed the chart's Gateway; the route is accepted", async () => {
          const programmed = gateway("dot-ai-http", APP_NS);
          assert.ok(isTrue(programmed, "Programmed"), `right after up: ${describeConditions(programmed)}`);
          await eventually(
            "the route to be Accepted on the chart's Gateway dot-ai-http",
            () => {
              const r = route();
              const parent = routeParent(r, "dot-ai-http", APP_NS);
              return !!parent && isTrue(r, "Accepted", parent);
            },
            120_000,
            () =>
              `Gateway: ${describeConditions(gateway("dot-ai-http", APP_NS))}; route: ${JSON.stringify(route().status)}`,
          );
        });
      }

      it("stores the token and keys in the Secret the chart reads, and the chart renders none of its own", () => {
        const data = secretData();
        assert.deepStrictEqual(Object.keys(data).sort(), ["anthropic-api-key", "auth-token", "openai-api-key"]);
        assert.match(data["auth-token"], /^[A-Za-z0-9]{48}$/);
        assert.strictEqual(data["anthropic-api-key"], KEYS[0]);
        const secrets = kubectlJson(["get", "secret", "-n", APP_NS]).items.map((s: KubeObject) => s.metadata.name);
        assert.ok(secrets.includes("dot-ai-secrets"));
        assert.ok(
          !secrets.some((n: string) => n !== "dot-ai-secrets" && !n.startsWith("sh.helm.release.")),
          secrets.join(),
        );
      });

      it(`installs the Helm release dot-ai of chart ${version}`, () => {
        const releases = kubectlJson(["get", "secret", "-n", APP_NS, "-l", "owner=helm,name=dot-ai"]).items;
        assert.ok(releases.some((r: KubeObject) => r.metadata.labels.status === "deployed"));
        assert.strictEqual(deployment().metadata.labels["helm.sh/chart"], `dot-ai-${version}`);
      });

      it("renders the HTTPRoute attached to the right Gateway, for the hostname, with SSE-friendly timeouts", () => {
        const r = route();
        assert.deepStrictEqual(r.spec.parentRefs, [expected.parentRef]);
        assert.deepStrictEqual(r.spec.hostnames, [expected.hostname]);
        assert.deepStrictEqual(r.spec.rules[0].timeouts, { request: "3600s", backendRequest: "3600s" });
        assert.deepStrictEqual(
          r.spec.rules[0].backendRefs.map((b: KubeObject) => [b.name, b.port]),
          [["dot-ai", 3456]],
        );
      });

      it(`has the Deployments (${deploymentsOf(version).join(", ")}) and the bundled Qdrant Ready, its claim Bound`, async () => {
        for (const name of deploymentsOf(version)) {
          await eventually(`the ${name} Deployment to be Ready`, () => deploymentReady(name));
        }
        await eventually("the Qdrant StatefulSet Ready and its claim Bound", qdrantReady);
      });

      if (checkDocsClaims) {
        it("does not admit a route from a namespace without the Selector label (NotAllowedByListeners)", async () => {
          const ns = "e2e-unlabelled";
          kubectl(["create", "namespace", ns]);
          try {
            kubectl(["apply", "-f", "-"], {
              input: JSON.stringify({
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: "stray", namespace: ns },
                spec: {
                  parentRefs: [{ name: SHARED.name, namespace: SHARED.namespace }],
                  hostnames: ["stray.example.com"],
                  rules: [{ backendRefs: [{ name: "stray", port: 80 }] }],
                },
              }),
            });
            let stray: KubeObject = {};
            await eventually(
              "the stray route's status",
              () => {
                stray = kubectlJson(["get", "httproute", "stray", "-n", ns]);
                return !!routeParent(stray, SHARED.name, SHARED.namespace);
              },
              60_000,
            );
            const accepted = routeParent(stray, SHARED.name, SHARED.namespace)!.conditions.find(
              (c: KubeObject) => c.type === "Accepted",
            );
            assert.strictEqual(accepted?.status, "False", JSON.stringify(stray.status));
            assert.strictEqual(accepted?.reason, "NotAllowedByListeners");
            const gw = gateway(SHARED.name, SHARED.namespace);
            assert.deepStrictEqual(
              gw.status.listeners.map((l: KubeObject) => l.attachedRoutes),
              [1, 1],
              "only dot-ai's route is attached",
            );
          } finally {
            kubectl(["delete", "namespace", ns, "--wait=false"]);
          }
        });

        it("keeps dot-ai's route attached without the ReferenceGrant, and `pulumi up --refresh` restores it", async () => {
          const grant = ["referencegrant", "cluster-gateway-routes", "-n", SHARED.namespace];
          kubectl(["delete", ...grant]);
          // Make Envoy Gateway reconcile after the deletion: a new route it must judge. Its status
          // appearing shows the controller has processed the cluster without the grant.
          const probe = {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: { name: "grant-probe", namespace: APP_NS },
            spec: {
              parentRefs: [{ name: SHARED.name, namespace: SHARED.namespace }],
              hostnames: ["probe.example.com"],
              rules: [{ backendRefs: [{ name: "dot-ai", port: 3456 }] }],
            },
          };
          kubectl(["apply", "-f", "-"], { input: JSON.stringify(probe) });
          try {
            await eventually(
              "Envoy Gateway to judge a new route after the ReferenceGrant was deleted",
              () => {
                const p = kubectlJson(["get", "httproute", "grant-probe", "-n", APP_NS]);
                return !!routeParent(p, SHARED.name, SHARED.namespace);
              },
              60_000,
            );
            const r = route();
            const parent = routeParent(r, SHARED.name, SHARED.namespace);
            assert.ok(parent && isTrue(r, "Accepted", parent), JSON.stringify(r.status));
          } finally {
            kubectl(["delete", "httproute", "grant-probe", "-n", APP_NS]);
          }
          pulumiUp(stack, ["--refresh"]);
          assert.ok(exists(grant), "pulumi up --refresh recreated the ReferenceGrant");
        });
      }

      it("is idempotent: a second preview shows no changes", () => {
        pulumi(stack, ["preview", "--expect-no-changes", "--suppress-progress"]);
      });

      it("rotates the token through config: the Secret changes, the pods roll, nothing else is replaced", async () => {
        const tokenBefore = secretData()["auth-token"];
        const revisionBefore = podTemplateRevision();
        assert.ok(revisionBefore, "the pod template carries the secrets revision");

        setConfig(stack, { tokenRotation: `e2e-rotation-${version}` });
        const preview = JSON.parse(pulumi(stack, ["preview", "--json", "--suppress-progress"]).stdout) as {
          steps: { op: string; urn: string }[];
        };
        const changed = preview.steps.filter((s) => s.op !== "same");
        const replaced = changed.filter((s) => /replace/.test(s.op)).map((s) => s.urn.split("::").pop());
        assert.deepStrictEqual(
          [...new Set(replaced)],
          ["dot-ai-auth-token"],
          `only the token is replaced: ${JSON.stringify(changed)}`,
        );
        const updated = changed.filter((s) => s.op === "update").map((s) => s.urn.split("::").pop());
        assert.deepStrictEqual(updated.sort(), ["dot-ai-release", "dot-ai-secrets"]);

        pulumiUp(stack);
        assert.notStrictEqual(secretData()["auth-token"], tokenBefore);
        assert.notStrictEqual(podTemplateRevision(), revisionBefore);
        await eventually("the rolled Deployment to be Ready", () => deploymentReady("dot-ai"));
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

      it("destroys everything it made except the retained Gateway API bundle", async () => {
        pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
        for (const ns of expected.namespaces) {
          await eventually(`namespace ${ns} to be deleted`, () => !exists(["namespace", ns]));
        }
        for (const object of gatewayApiBundle()) assert.ok(exists(object), `${object.join(" ")} is retained`);
      });
    });
  }
}

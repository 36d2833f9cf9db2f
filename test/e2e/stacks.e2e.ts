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
/** Where the creation pattern's redirect route lives: the only namespace its port-80 listener admits. */
const REDIRECT_NS = `${APP_NS}-https-redirect`;

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
    namespaces: [APP_NS, REDIRECT_NS],
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

/**
 * Until the controller has judged it: `gateway` Programmed with both listeners, each with one route
 * attached (on `https` dot-ai's, on `http` the redirect, the only route its allowedRoutes admits),
 * the redirect route Accepted there and dot-ai's route Accepted with its backend resolved.
 */
async function tlsOnly(
  gw: { name: string; namespace: string },
  redirect: { name: string; namespace: string; listener: string },
) {
  let seen = "";
  await eventually(
    `${gw.namespace}/${gw.name} to serve dot-ai on https only, and only the redirect on http`,
    () => {
      const g = gateway(gw.name, gw.namespace);
      const r = kubectlJson(["get", "httproute", redirect.name, "-n", redirect.namespace]);
      const d = route();
      const [rp, dp] = [routeParent(r, gw.name, gw.namespace), routeParent(d, gw.name, gw.namespace)];
      seen = JSON.stringify({ gateway: g.status, redirect: r.status, dotAi: d.status });
      return (
        isTrue(g, "Programmed") &&
        [redirect.listener, "https"].every(
          (l) => isTrue(g, "Programmed", listener(g, l)) && listener(g, l)?.attachedRoutes === 1,
        ) &&
        isTrue(g, "ResolvedRefs", listener(g, "https")) &&
        !!rp &&
        isTrue(r, "Accepted", rp) &&
        !!dp &&
        isTrue(d, "Accepted", dp) &&
        isTrue(d, "ResolvedRefs", dp)
      );
    },
    60_000,
    () => seen,
  );
  const r = kubectlJson(["get", "httproute", redirect.name, "-n", redirect.namespace]);
  // One rule, only redirecting (the API server adds its default match, PathPrefix /).
  assert.strictEqual(r.spec.rules.length, 1);
  assert.deepStrictEqual(r.spec.rules[0].filters, [
    { type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } },
  ]);
  assert.strictEqual(r.spec.rules[0].backendRefs, undefined, "it forwards nothing");
  assert.strictEqual(r.spec.parentRefs[0].sectionName, redirect.listener);
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
    // The agent's reach and the plain-HTTP opt-in do not depend on the pattern: checked once, on dev.
    const checkSecurityChoices = stack === "dev" && version === CHART_VERSIONS[CHART_VERSIONS.length - 1];
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
          assert.strictEqual(gw.spec.listeners[0].allowedRoutes.namespaces.from, "Same", "port 80 admits no app");
          assert.strictEqual(gw.spec.listeners[1].allowedRoutes.namespaces.from, "Selector");
          const labels = kubectlJson(["get", "namespace", APP_NS]).metadata.labels;
          for (const [k, v] of Object.entries(gw.spec.listeners[1].allowedRoutes.namespaces.selector.matchLabels)) {
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

        it("has Envoy Gateway attach dot-ai's route to the https listener only, and only the redirect to http", async () => {
          // `pulumi up` waited for Programmed; the listeners' route counts may follow the release.
          await tlsOnly(SHARED, {
            name: `${SHARED.name}-https-redirect`,
            namespace: SHARED.namespace,
            listener: "http",
          });
          assert.ok((gateway(SHARED.name, SHARED.namespace).status.addresses ?? []).length > 0, "an address");
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
        it("has the chart create its own Gateway with HTTPS, and the program its port-80 listener for the redirect", () => {
          const gw = gateway("dot-ai-http", APP_NS);
          assert.strictEqual(gw.spec.gatewayClassName, GATEWAY_CLASS);
          assert.strictEqual(gw.metadata.annotations["external-dns.alpha.kubernetes.io/hostname"], expected.hostname);
          const byName = Object.fromEntries(gw.spec.listeners.map((l: KubeObject) => [l.name, l]));
          assert.deepStrictEqual(Object.keys(byName).sort(), ["http-redirect", "https"]);
          assert.deepStrictEqual([byName.https.port, byName.https.hostname], [443, expected.hostname]);
          assert.strictEqual(byName.https.tls.certificateRefs[0].name, "dot-ai-tls");
          assert.deepStrictEqual(byName.https.allowedRoutes.namespaces.from, "Same");
          const redirect = byName["http-redirect"];
          assert.deepStrictEqual([redirect.port, redirect.hostname], [80, expected.hostname]);
          assert.deepStrictEqual(redirect.allowedRoutes.namespaces, {
            from: "Selector",
            selector: { matchLabels: { "kubernetes.io/metadata.name": REDIRECT_NS } },
          });
          assert.ok(!exists(["gateway", SHARED.name, "-n", SHARED.namespace]));
        });

        it("has cert-manager issue the hostname's Certificate in the app namespace: Ready, for exactly the hostname", () => {
          const cert = kubectlJson(["get", "certificate", "dot-ai-tls", "-n", APP_NS]);
          assert.ok(isTrue(cert, "Ready"), describeConditions(cert));
          assert.strictEqual(cert.spec.issuerRef.name, "letsencrypt-prod");
          const secret = kubectlJson(["get", "secret", "dot-ai-tls", "-n", APP_NS]);
          assert.deepStrictEqual(dnsNames(Buffer.from(secret.data["tls.crt"], "base64").toString()), [
            expected.hostname,
          ]);
        });

        it("has Envoy Gateway attach dot-ai's route to the https listener only, and only the redirect to http", async () => {
          await tlsOnly(
            { name: "dot-ai-http", namespace: APP_NS },
            { name: "dot-ai-http-https-redirect", namespace: REDIRECT_NS, listener: "http-redirect" },
          );
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
        // Besides Helm's records, only the dev stack's certificate, which cert-manager writes.
        const ours = ["dot-ai-secrets", ...(stack === "dev" ? ["dot-ai-tls"] : [])];
        assert.ok(!secrets.some((n: string) => !ours.includes(n) && !n.startsWith("sh.helm.release.")), secrets.join());
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

      if (checkSecurityChoices) {
        /** What the API server's authorizer answers for the agent's ServiceAccount `sa` in the app namespace. */
        const agentCan = (sa: string, verb: string, resource: string, namespace?: string): boolean =>
          kubectl(
            [
              "auth",
              "can-i",
              verb,
              resource,
              ...(namespace ? ["-n", namespace] : ["--all-namespaces"]),
              `--as=system:serviceaccount:${APP_NS}:${sa}`,
            ],
            { allowFailure: true },
          ).stdout.trim() === "yes";

        it("with the chart's own ServiceAccount (the default), the agent can write anywhere", () => {
          assert.ok(agentCan("dot-ai", "create", "deployments", "kube-system"));
          assert.ok(agentCan("dot-ai", "delete", "secrets", "default"));
        });

        it("with agentAccess read-write-namespaces, reads cluster-wide and writes only in the listed namespaces", async () => {
          const writable = "e2e-agent-writable";
          kubectl(["create", "namespace", writable]);
          setConfig(stack, { agentAccess: "read-write-namespaces", agentWriteNamespaces: JSON.stringify([writable]) });
          pulumiUp(stack);
          const sa = "dot-ai-agent";
          assert.strictEqual(deployment().spec.template.spec.serviceAccountName, sa, "the pods run as it");
          assert.ok(!exists(["clusterrole", "dot-ai"]), "the chart's cluster-wide ClusterRole is gone");
          assert.ok(agentCan(sa, "create", "deployments", writable), "writes in the listed namespace");
          assert.ok(!agentCan(sa, "create", "deployments", "default"), "no write elsewhere");
          assert.ok(!agentCan(sa, "delete", "pods", "kube-system"), "no write elsewhere");
          assert.ok(agentCan(sa, "list", "deployments"), "reads cluster-wide");
          assert.ok(agentCan(sa, "list", "customresourcedefinitions"), "reads which kinds exist");
          assert.ok(!agentCan(sa, "get", "secrets", "default"), "reads no Secret outside its namespaces");
          await eventually("dot-ai Ready as its own ServiceAccount", () => deploymentReady("dot-ai"));

          pulumi(stack, ["config", "rm", "dot-ai-gateway:agentAccess"]);
          pulumi(stack, ["config", "rm", "dot-ai-gateway:agentWriteNamespaces"]);
          pulumiUp(stack);
          assert.ok(agentCan("dot-ai", "create", "deployments", "default"), "back to the chart's reach");
          assert.ok(!exists(["serviceaccount", sa, "-n", APP_NS]), "the program's ServiceAccount is gone");
          kubectl(["delete", "namespace", writable, "--wait=false"]);
        });

        it("with allowPlaintextHttp, previews warn on every run what crosses the network in clear", () => {
          setConfig(stack, { allowPlaintextHttp: "true" });
          try {
            const preview = pulumi(stack, ["preview", "--suppress-progress"]);
            assert.match(
              preview.stdout,
              /allowPlaintextHttp is true\. The MCP endpoint http:\/\/dot-ai\.dev\.example\.com is served on plain HTTP/,
            );
            assert.match(preview.stdout, /bearer token/);
          } finally {
            pulumi(stack, ["config", "rm", "dot-ai-gateway:allowPlaintextHttp"]);
          }
        });
      }

      it("is idempotent: a second preview shows no changes", () => {
        pulumi(stack, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"]);
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

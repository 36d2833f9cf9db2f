/**
 * doctor's diagnosis, on object shapes as the API server returns them after Envoy Gateway and
 * cert-manager have written their status: a healthy stack passes every check, and each fault
 * fails exactly the check that owns it, with the cause in words and a fix.
 */
import * as assert from "assert";

import { checkCrds } from "../doctor/checks/crds";
import { checkExternalDns } from "../doctor/checks/external-dns";
import { checkGateway } from "../doctor/checks/gateway";
import { checkGatewayClass } from "../doctor/checks/gateway-class";
import { checkQdrant } from "../doctor/checks/qdrant";
import { checkRoute, hostnamesIntersect, namespaceAllowed } from "../doctor/checks/route";
import { checkSecret } from "../doctor/checks/secret";
import { checkTls } from "../doctor/checks/tls";
import { checkWorkload } from "../doctor/checks/workload";
import { diagnose } from "../doctor/diagnose";
import { Expectations, expectationsFrom } from "../doctor/expectations";
import type { Certificate, Condition, Gateway, HTTPRoute } from "../doctor/model";
import type { CheckResult } from "../doctor/result";
import type { Snapshot } from "../doctor/snapshot";
import { sha256 } from "../doctor/stack";
import { parseConfig } from "../stacks/config";

const TOKEN = "t".repeat(48);
const NOW = Date.parse("2026-11-26T12:00:00Z");
const EG = "gateway.envoyproxy.io/gatewayclass-controller";
const LABEL = "dot-ai-gateway/shared-gateway";

const ok = (type: string, reason = type, generation = 1): Condition => ({
  type,
  status: "True",
  reason,
  message: "",
  observedGeneration: generation,
});
const no = (type: string, reason: string, message = ""): Condition => ({
  type,
  status: "False",
  reason,
  message,
  observedGeneration: 1,
});

function expectations(
  stack: "prod" | "dev",
  values: Record<string, string> = {},
  chartVersion = "2.2.2",
): Expectations {
  const base: Record<string, string> =
    stack === "prod"
      ? { mode: "reference", hostname: "dot-ai.example.com", domain: "example.com", allowedRoutes: "Selector" }
      : { mode: "creation", hostname: "dot-ai.dev.example.com" };
  const config = parseConfig({
    stack,
    values: {
      ...base,
      gatewayClassName: "eg",
      chartVersion,
      anthropicApiKey: "[secret]",
      openaiApiKey: "[secret]",
      ...values,
    },
    secretKeys: new Set(["anthropicApiKey", "openaiApiKey"]),
    baseDir: process.cwd(),
  });
  const prod = stack === "prod";
  const result = expectationsFrom(stack, config, {
    mode: prod ? "reference" : "creation",
    gatewayName: prod ? "cluster-gateway" : "dot-ai-http",
    gatewayNamespace: prod ? "gateway-system" : "dot-ai",
    url:
      values.https === "false"
        ? `http://${base.hostname}`
        : `https://${prod ? "dot-ai.example.com" : "dot-ai.dev.example.com"}`,
    authTokenDigest: sha256(TOKEN),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.expectations;
}

function crds(): Snapshot["crds"] {
  return ["gatewayclasses", "gateways", "httproutes", "referencegrants"].map((plural) => ({
    metadata: {
      name: `${plural}.gateway.networking.k8s.io`,
      annotations: {
        "gateway.networking.k8s.io/bundle-version": "v1.6.3",
        "gateway.networking.k8s.io/channel": "standard",
      },
    },
    spec: { names: { plural, kind: plural } },
  }));
}

function prodGateway(): Gateway {
  const allowedRoutes = { namespaces: { from: "Selector", selector: { matchLabels: { [LABEL]: "cluster-gateway" } } } };
  const listenerOk = (name: string) => ({
    name,
    attachedRoutes: 1,
    conditions: [ok("Accepted"), ok("ResolvedRefs"), ok("Programmed"), no("Conflicted", "NoConflicts")],
  });
  return {
    metadata: { name: "cluster-gateway", namespace: "gateway-system", generation: 1 },
    spec: {
      gatewayClassName: "eg",
      listeners: [
        // Port 80 admits only the platform's redirect, from the Gateway's own namespace.
        { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } },
        {
          name: "https",
          protocol: "HTTPS",
          port: 443,
          allowedRoutes,
          tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "wildcard-tls" }] },
        },
      ],
    },
    status: {
      addresses: [{ type: "IPAddress", value: "10.96.0.20" }],
      conditions: [ok("Accepted"), ok("Programmed")],
      listeners: [listenerOk("http"), listenerOk("https")],
    },
  };
}

function devGateway(): Gateway {
  return {
    metadata: {
      name: "dot-ai-http",
      namespace: "dot-ai",
      generation: 1,
      annotations: { "external-dns.alpha.kubernetes.io/hostname": "dot-ai.dev.example.com" },
    },
    spec: {
      gatewayClassName: "eg",
      listeners: [
        {
          name: "https",
          protocol: "HTTPS",
          port: 443,
          hostname: "dot-ai.dev.example.com",
          allowedRoutes: { namespaces: { from: "Same" } },
          tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "dot-ai-tls" }] },
        },
        // The program's port 80, admitting only the redirect's own namespace.
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
      ],
    },
    status: {
      addresses: [{ type: "IPAddress", value: "10.96.0.21" }],
      conditions: [ok("Accepted"), ok("Programmed")],
      listeners: ["https", "http-redirect"].map((name) => ({
        name,
        attachedRoutes: 1,
        conditions: [ok("Accepted"), ok("ResolvedRefs"), ok("Programmed")],
      })),
    },
  };
}

function route(gateway: Gateway, hostname: string): HTTPRoute {
  const parentRef =
    gateway.metadata.namespace === "dot-ai"
      ? { group: "gateway.networking.k8s.io", kind: "Gateway", name: gateway.metadata.name }
      : {
          group: "gateway.networking.k8s.io",
          kind: "Gateway",
          name: gateway.metadata.name,
          namespace: gateway.metadata.namespace,
        };
  return {
    metadata: { name: "dot-ai", namespace: "dot-ai", generation: 1 },
    spec: {
      parentRefs: [parentRef],
      hostnames: [hostname],
      rules: [
        { backendRefs: [{ name: "dot-ai", port: 3456 }], timeouts: { request: "3600s", backendRequest: "3600s" } },
      ],
    },
    status: { parents: [{ parentRef, controllerName: EG, conditions: [ok("Accepted"), ok("ResolvedRefs")] }] },
  };
}

function certificate(stack: "prod" | "dev" = "prod"): Certificate {
  const prod = stack === "prod";
  return {
    metadata: { name: prod ? "wildcard" : "dot-ai-tls", namespace: prod ? "gateway-system" : "dot-ai", generation: 1 },
    spec: {
      secretName: prod ? "wildcard-tls" : "dot-ai-tls",
      dnsNames: prod ? ["*.example.com", "example.com"] : ["dot-ai.dev.example.com"],
      issuerRef: { name: "letsencrypt-prod", kind: "ClusterIssuer" },
    },
    status: { conditions: [ok("Ready")], notAfter: "2027-02-24T12:00:00Z", renewalTime: "2027-01-25T12:00:00Z" },
  };
}

const deployment = (name: string, replicas = 1) => ({
  metadata: { name, namespace: "dot-ai", generation: 1 },
  spec: { replicas },
  status: {
    observedGeneration: 1,
    replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    updatedReplicas: replicas,
  },
});

function healthy(stack: "prod" | "dev"): { x: Expectations; s: Snapshot } {
  const x = expectations(stack);
  const gateway = stack === "prod" ? prodGateway() : devGateway();
  const s: Snapshot = {
    readAt: NOW,
    crds: crds(),
    gatewayClass: {
      metadata: { name: "eg", generation: 1 },
      spec: { controllerName: EG },
      status: { conditions: [ok("Accepted"), ok("SupportedVersion")] },
    },
    gateway,
    appNamespace: {
      metadata: {
        name: "dot-ai",
        labels: stack === "prod" ? { [LABEL]: "cluster-gateway", "kubernetes.io/metadata.name": "dot-ai" } : {},
      },
    },
    route: route(gateway, x.hostname),
    service: { metadata: { name: "dot-ai", namespace: "dot-ai" } },
    endpointSlices: [{ endpoints: [{ conditions: { ready: true } }] }],
    deployments: { "dot-ai": deployment("dot-ai"), "dot-ai-agentic-tools": deployment("dot-ai-agentic-tools") },
    podProblems: {},
    qdrant: {
      statefulSet: { metadata: { name: "dot-ai-qdrant" }, spec: { replicas: 1 }, status: { readyReplicas: 1 } },
      storage: {
        classes: [{ name: "local", isDefault: true, provisioner: "kubernetes.io/no-provisioner" }],
        volumes: [],
        claimPhase: "Bound",
      },
    },
    appSecret: {
      name: "dot-ai-secrets",
      namespace: "dot-ai",
      keys: ["anthropic-api-key", "auth-token", "openai-api-key"],
      digests: { "auth-token": sha256(TOKEN) },
    },
  };
  const tls =
    stack === "prod"
      ? { name: "wildcard-tls", namespace: "gateway-system" }
      : { name: "dot-ai-tls", namespace: "dot-ai" };
  s.tls = {
    secretName: tls.name,
    namespace: tls.namespace,
    secret: { ...tls, keys: ["ca.crt", "tls.crt", "tls.key"], digests: {} },
    certManager: true,
    certificate: certificate(stack),
  };
  return { x, s };
}

function failing(results: CheckResult[]): string[] {
  return results.filter((r) => r.status === "fail").map((r) => r.id);
}

function only(results: CheckResult[], id: string): CheckResult {
  assert.deepStrictEqual(
    failing(results),
    [id],
    JSON.stringify(
      results.filter((r) => r.status === "fail"),
      null,
      2,
    ),
  );
  return results.find((r) => r.id === id)!;
}

const NONE = new Map<string, CheckResult>();

describe("doctor", () => {
  describe("reads what to expect from the stack's configuration and outputs", () => {
    it("a release moving from Ingress: the bridge route serves in phase both, the chart's in phase gateway", () => {
      assert.strictEqual(expectations("prod", { migrateFrom: "dot-ai/dot-ai" }).app?.routeName, "dot-ai-bridge");
      const moved = expectations("prod", { migrateFrom: "dot-ai/dot-ai", migrationPhase: "gateway" });
      assert.strictEqual(moved.app?.routeName, "dot-ai");
    });

    it("prod: the shared Gateway, its wildcard Secret, chart 2.2.2's two Deployments, the bundled Qdrant, three keys", () => {
      const x = expectations("prod");
      assert.deepStrictEqual(x.gateway, {
        name: "cluster-gateway",
        namespace: "gateway-system",
        className: "eg",
        owner: "stack",
      });
      assert.deepStrictEqual(x.tls, {
        secretName: "wildcard-tls",
        namespace: "gateway-system",
        clusterIssuer: "letsencrypt-prod",
      });
      assert.deepStrictEqual(x.app?.deployments, ["dot-ai", "dot-ai-agentic-tools"]);
      assert.deepStrictEqual(x.app?.secretKeys, ["auth-token", "anthropic-api-key", "openai-api-key"]);
      assert.strictEqual(x.app?.qdrant?.claimName, "qdrant-storage-dot-ai-qdrant-0");
      assert.strictEqual(x.app?.authKeyRequired, true);
      assert.strictEqual(x.app?.externalDnsHostname, undefined);
    });

    it("dev on chart 0.170.0: the chart's Gateway, no agentic-tools, an optional auth key, the external-dns hostname", () => {
      const x = expectations("dev", {}, "0.170.0");
      assert.strictEqual(x.gateway.owner, "chart");
      assert.strictEqual(x.https, true);
      assert.deepStrictEqual(x.tls, {
        secretName: "dot-ai-tls",
        namespace: "dot-ai",
        clusterIssuer: "letsencrypt-prod",
      });
      assert.strictEqual(x.plaintextHttp, false);
      assert.deepStrictEqual(x.app?.deployments, ["dot-ai"]);
      assert.strictEqual(x.app?.authKeyRequired, false);
      assert.strictEqual(x.app?.externalDnsHostname, "dot-ai.dev.example.com");
    });

    it("an external Qdrant means no claim to check", () => {
      assert.strictEqual(expectations("prod", { qdrantUrl: "http://qdrant.qdrant.svc:6333" }).app?.qdrant, undefined);
    });

    it("refuses to guess for an invalid configuration or a stack without outputs, naming the fix", () => {
      const bad = parseConfig({ stack: "prod", values: { mode: "reference" }, secretKeys: new Set(), baseDir: "." });
      const r1 = expectationsFrom("prod", bad, { gatewayName: "g", gatewayNamespace: "n" });
      assert.ok(!r1.ok && r1.problems.some((p) => /hostname/.test(p.problem) && /pulumi config set/.test(p.fix)));
      const good = parseConfig({
        stack: "dev",
        values: { mode: "creation", hostname: "a.example.com", gatewayClassName: "eg", anthropicApiKey: "x" },
        secretKeys: new Set(["anthropicApiKey"]),
        baseDir: ".",
      });
      const r2 = expectationsFrom("dev", good, {});
      assert.ok(!r2.ok && /no outputs/.test(r2.problems[0].problem) && r2.problems[0].fix === "pulumi up --stack dev");
    });
  });

  describe("platform and app stacks", () => {
    it("a platform stack: the Gateway and its certificate are checked, dot-ai's checks are skipped", () => {
      const config = parseConfig({
        stack: "platform",
        values: { role: "platform", gatewayClassName: "eg", domain: "example.com" },
        secretKeys: new Set(),
        baseDir: process.cwd(),
      });
      const r = expectationsFrom("platform", config, {
        role: "platform",
        mode: "reference",
        gatewayName: "cluster-gateway",
        gatewayNamespace: "gateway-system",
      });
      assert.ok(r.ok, JSON.stringify(r));
      const x = r.expectations;
      assert.strictEqual(x.role, "platform");
      assert.strictEqual(x.app, undefined);
      assert.deepStrictEqual(x.tls, {
        secretName: "wildcard-tls",
        namespace: "gateway-system",
        clusterIssuer: "letsencrypt-prod",
      });
      const results = diagnose(x, healthy("prod").s);
      assert.deepStrictEqual(failing(results), []);
      for (const id of ["route", "workload", "qdrant", "secret"])
        assert.strictEqual(results.find((c) => c.id === id)?.summary, "a platform stack deploys no dot-ai");
      assert.strictEqual(results.find((c) => c.id === "tls")?.status, "pass");
    });

    it("an app stack: the Gateway is the platform's, so its fixes go to the platform team; the namespace label is the app's", () => {
      const config = parseConfig({
        stack: "team-a",
        values: {
          role: "app",
          hostname: "dot-ai.example.com",
          gatewayName: "cluster-gateway",
          gatewayNamespace: "gateway-system",
          domain: "example.com",
          namespaceLabels: JSON.stringify({ [LABEL]: "cluster-gateway" }),
          anthropicApiKey: "[secret]",
          openaiApiKey: "[secret]",
        },
        secretKeys: new Set(["anthropicApiKey", "openaiApiKey"]),
        baseDir: process.cwd(),
      });
      const r = expectationsFrom("team-a", config, {
        role: "app",
        mode: "reference",
        gatewayName: "cluster-gateway",
        gatewayNamespace: "gateway-system",
        url: "https://dot-ai.example.com",
        authTokenDigest: sha256(TOKEN),
      });
      assert.ok(r.ok, JSON.stringify(r));
      const x = r.expectations;
      assert.strictEqual(x.gateway.owner, "platform");
      const { s } = healthy("prod");
      assert.deepStrictEqual(failing(diagnose(x, s)), [], "the TLS Secret is found through the Gateway's listener");
      s.gateway = null;
      assert.match(only(diagnose(x, s), "gateway").fix![0], /^the platform team must re-create it/);
      const labels = healthy("prod");
      labels.s.appNamespace!.metadata.labels = {};
      const route = only(diagnose(x, labels.s), "route");
      assert.deepStrictEqual(route.fix, [
        "kubectl label namespace dot-ai dot-ai-gateway/shared-gateway=cluster-gateway --overwrite",
        "pulumi up --refresh --stack team-a   # re-creates what the stack owns and was changed or deleted by hand",
      ]);
    });
  });

  describe("a healthy stack passes every check", () => {
    for (const stack of ["prod", "dev"] as const) {
      it(stack, () => {
        const { x, s } = healthy(stack);
        const results = diagnose(x, s);
        assert.deepStrictEqual(failing(results), []);
        const skipped = results.filter((r) => r.status === "skip").map((r) => r.id);
        assert.deepStrictEqual(skipped, stack === "prod" ? ["external-dns"] : []);
      });
    }

    it("says how many routes each listener carries and when the certificate expires", () => {
      const { x, s } = healthy("prod");
      const results = diagnose(x, s);
      assert.deepStrictEqual(results.find((r) => r.id === "gateway")?.details, [
        "listener http (HTTP/80): 1 route(s) attached",
        "listener https (HTTPS/443): 1 route(s) attached",
      ]);
      assert.deepStrictEqual(results.find((r) => r.id === "tls")?.details, [
        "certificate expires 2027-02-24T12:00:00Z (90 days)",
      ]);
      assert.match(results.find((r) => r.id === "secret")!.summary, /token matches the authToken output/);
    });
  });

  describe("each injected fault fails exactly its check, with the cause and the fix", () => {
    it("namespace label removed: NotAllowedByListeners, even before the controller re-judges the route", () => {
      const { x, s } = healthy("prod");
      s.appNamespace!.metadata.labels = { "kubernetes.io/metadata.name": "dot-ai" };
      const r = only(diagnose(x, s), "route");
      assert.match(r.summary, /NotAllowedByListeners/);
      assert.match(
        r.cause!,
        /only namespaces labelled dot-ai-gateway\/shared-gateway=cluster-gateway.*namespace dot-ai does not carry/,
      );
      assert.strictEqual(
        r.fix![0],
        "kubectl label namespace dot-ai dot-ai-gateway/shared-gateway=cluster-gateway --overwrite",
      );
      assert.match(r.fix![1], /^pulumi up --refresh --stack prod/);
    });

    it("Gateway deleted: the gateway check fails; the route and its status are not judged against a missing parent", () => {
      const { x, s } = healthy("prod");
      s.gateway = null;
      const results = diagnose(x, s);
      const r = only(results, "gateway");
      assert.strictEqual(r.summary, "Gateway gateway-system/cluster-gateway does not exist");
      assert.match(r.cause!, /nothing serves dot-ai\.example\.com/);
      assert.match(r.fix![0], /^pulumi up --refresh --stack prod/);
      assert.strictEqual(results.find((c) => c.id === "route")?.status, "skip");
    });

    it("TLS Secret deleted (and no issuer to re-issue it): the tls check fails; the listener's broken ref is not a second failure", () => {
      const { x, s } = healthy("prod");
      s.tls!.secret = null;
      s.tls!.certificate!.status!.conditions = [
        no("Ready", "DoesNotExist", "Issuing certificate as Secret does not exist"),
      ];
      s.tls!.issuer = null;
      const https = s.gateway!.status!.listeners![1];
      https.conditions = [
        ok("Accepted"),
        no("ResolvedRefs", "InvalidCertificateRef", "Secret gateway-system/wildcard-tls does not exist."),
        no("Programmed", "Invalid", "Listener is invalid, see other Conditions for details."),
      ];
      const r = only(diagnose(x, s), "tls");
      assert.match(r.summary, /TLS Secret gateway-system\/wildcard-tls does not exist/);
      assert.match(r.summary, /Certificate gateway-system\/wildcard not Ready: False \(DoesNotExist/);
      assert.match(r.summary, /listener https ResolvedRefs False \(InvalidCertificateRef/);
      assert.match(r.cause!, /ClusterIssuer letsencrypt-prod does not exist, and the Secret was deleted/);
      assert.ok(r.fix!.some((f) => /pulumi config set dot-ai-gateway:clusterIssuer/.test(f)));
    });

    it("TLS Secret deleted while cert-manager can re-issue: says it is being re-issued", () => {
      const { x, s } = healthy("prod");
      s.tls!.secret = null;
      s.tls!.certificate!.status!.conditions = [no("Ready", "DoesNotExist")];
      s.tls!.issuer = { metadata: { name: "letsencrypt-prod" }, status: { conditions: [ok("Ready")] } };
      assert.match(only(diagnose(x, s), "tls").cause!, /re-issuing it/);
    });

    it("Deployment scaled to 0: one workload failure covering the Deployment and the empty Service", () => {
      const { x, s } = healthy("prod");
      s.deployments!["dot-ai"] = { ...deployment("dot-ai", 0), status: { observedGeneration: 2, replicas: 0 } };
      s.endpointSlices = [{ endpoints: [] }];
      const r = only(diagnose(x, s), "workload");
      assert.strictEqual(r.summary, "Deployment dot-ai is scaled to 0 replicas; Service dot-ai has no ready endpoints");
      assert.strictEqual(r.fix![0], "kubectl scale deployment dot-ai -n dot-ai --replicas=1");
    });

    it("the Secret's auth key removed: the secret check fails and says what chart 2.2.2 does without it", () => {
      const { x, s } = healthy("prod");
      s.appSecret = {
        name: "dot-ai-secrets",
        namespace: "dot-ai",
        keys: ["anthropic-api-key", "openai-api-key"],
        digests: {},
      };
      const r = only(diagnose(x, s), "secret");
      assert.strictEqual(r.summary, "Secret dot-ai/dot-ai-secrets lacks auth-token");
      assert.match(r.cause!, /requires the key: new dot-ai pods fail with CreateContainerConfigError/);
      assert.match(r.fix![0], /^pulumi up --refresh --stack prod/);
    });
  });

  describe("Gateway API CRDs and GatewayClass", () => {
    it("names missing CRDs and a bundle below v1.0.0; everything on the Gateway API is then skipped", () => {
      const { x, s } = healthy("prod");
      s.crds = s.crds.filter((c) => !c.metadata.name.startsWith("httproutes"));
      const results = diagnose(x, s);
      assert.match(results.find((r) => r.id === "crds")!.summary, /missing: httproutes\.gateway\.networking\.k8s\.io/);
      assert.strictEqual(results.find((r) => r.id === "route")?.status, "skip");
      const old = healthy("prod");
      old.s.crds[1].metadata.annotations!["gateway.networking.k8s.io/bundle-version"] = "v0.8.1";
      assert.match(checkCrds(old.x, old.s).summary, /v0\.8\.1 \(standard\), older than v1\.0\.0/);
      assert.match(checkCrds(x, healthy("prod").s).summary, /bundle v1\.6\.3 \(standard\)/);
    });

    it("a missing class, or one no controller accepted, names the class and how to find the right one", () => {
      const { x, s } = healthy("prod");
      s.gatewayClass = null;
      const missing = checkGatewayClass(x, s, NONE);
      assert.strictEqual(missing.summary, "GatewayClass eg does not exist");
      assert.ok(missing.fix!.some((f) => /pulumi config set dot-ai-gateway:gatewayClassName/.test(f)));
      s.gatewayClass = {
        metadata: { name: "eg", generation: 1 },
        spec: { controllerName: EG },
        status: {
          conditions: [{ type: "Accepted", status: "Unknown", reason: "Pending", message: "Waiting for controller" }],
        },
      };
      assert.match(checkGatewayClass(x, s, NONE).cause!, /no running controller claims controllerName/);
      // The Gateway's own Pending status is a consequence, not a second failure.
      s.gateway!.status = { conditions: [{ type: "Programmed", status: "Unknown", reason: "Pending" }] };
      assert.deepStrictEqual(failing(diagnose(x, s)), ["gatewayclass"]);
    });
  });

  describe("Gateway", () => {
    it("not Programmed, or without an address, says which and that the controller refused or did not act", () => {
      const { x, s } = healthy("prod");
      s.gateway!.status!.conditions = [
        ok("Accepted"),
        no("Programmed", "AddressNotAssigned", "No addresses have been assigned"),
      ];
      s.gateway!.status!.addresses = [];
      const r = checkGateway(x, s, NONE);
      assert.match(r.summary, /Programmed False \(AddressNotAssigned/);
      assert.match(r.summary, /no address/);
      assert.match(r.cause!, /refused to program it/);
      assert.strictEqual(r.fix![0], "kubectl describe gateway cluster-gateway -n gateway-system");
    });

    it("a conflicted listener fails; a stale status is not read as current", () => {
      const { x, s } = healthy("prod");
      s.gateway!.status!.listeners![0].conditions = [
        ok("Accepted"),
        ok("ResolvedRefs"),
        ok("Programmed"),
        { type: "Conflicted", status: "True", reason: "HostnameConflict" },
      ];
      assert.match(checkGateway(x, s, NONE).summary, /listener http Conflicted \(HostnameConflict\)/);
      const stale = healthy("prod");
      stale.s.gateway!.metadata.generation = 2;
      assert.match(checkGateway(stale.x, stale.s, NONE).summary, /Accepted is for an older generation/);
    });

    it("the chart's deleted Gateway is re-created by Helm, not by pulumi up", () => {
      const { x, s } = healthy("dev");
      s.gateway = null;
      const results = diagnose(x, s);
      assert.deepStrictEqual(failing(results), ["gateway"]);
      assert.match(
        results.find((r) => r.id === "gateway")!.fix![0],
        /^helm upgrade dot-ai .* -n dot-ai --reuse-values/,
      );
      assert.strictEqual(results.find((r) => r.id === "external-dns")?.status, "skip");
    });
  });

  describe("HTTPRoute timeouts, per Gateway implementation", () => {
    it("on Envoy Gateway, which applies them: the route's timeouts, nothing more", () => {
      const { x, s } = healthy("prod");
      const r = checkRoute(x, s, NONE);
      assert.strictEqual(r.status, "pass");
      assert.strictEqual(r.details, undefined);
    });

    it("on Traefik, which ignores them while reporting the route Accepted: says so, and what bounds a stream there", () => {
      const { x, s } = healthy("prod");
      s.gatewayClass!.spec.controllerName = "traefik.io/gateway-controller";
      const r = checkRoute(x, s, NONE);
      assert.strictEqual(r.status, "pass", "the route is right; the implementation ignores a field");
      assert.match(r.summary, /timeouts 3600s\/3600s \(not applied: see below\)/);
      assert.match(r.details![0], /^Traefik \(traefik\.io\/gateway-controller\) ignores HTTPRoute timeouts/);
      assert.match(r.details![0], /readTimeout, 60 s, bounds reading the request/);
    });
  });

  describe("HTTPRoute: every reason maps to its cause", () => {
    const withParent = (conditions: Condition[]) => {
      const { x, s } = healthy("prod");
      s.route!.status!.parents![0].conditions = conditions;
      return { x, s };
    };

    it("NotAllowedByListeners from the controller, with Same on the listeners: the allowedRoutes setting", () => {
      const { x, s } = withParent([no("Accepted", "NotAllowedByListeners"), ok("ResolvedRefs")]);
      for (const l of s.gateway!.spec.listeners) l.allowedRoutes = { namespaces: { from: "Same" } };
      const r = checkRoute(x, s, NONE);
      assert.match(r.summary, /NotAllowedByListeners/);
      assert.match(r.cause!, /only from other namespaces \(http: from Same; https: from Same\)/);
      assert.match(r.fix![0], /pulumi config set dot-ai-gateway:allowedRoutes Selector/);
    });

    it("NotAllowedByListeners reported by the controller alone still names allowedRoutes", () => {
      const { x, s } = withParent([no("Accepted", "NotAllowedByListeners"), ok("ResolvedRefs")]);
      // Labels still match as far as doctor can see, e.g. a selector on labels read a moment ago.
      const r = checkRoute(x, s, NONE);
      assert.match(r.cause!, /no listener of the Gateway admits routes from this namespace/);
    });

    it("a plain-HTTP listener admitting the route fails it: the endpoint is served in clear", () => {
      // A port-80 listener as the shared Gateway had it before it only redirected.
      const { x, s } = healthy("prod");
      s.gateway!.spec.listeners[0].allowedRoutes = s.gateway!.spec.listeners[1].allowedRoutes;
      const r = checkRoute(x, s, NONE);
      assert.strictEqual(r.status, "fail");
      assert.match(
        r.summary,
        /plain-HTTP listener http \(port 80\) admits the route: the MCP endpoint is served in clear/,
      );
      assert.match(r.fix![0], /pulumi up --refresh/);
      // Said in so many words: no finding.
      const allowed = expectations("prod", { allowPlaintextHttp: "true" });
      assert.strictEqual(checkRoute(allowed, s, NONE).status, "pass");
      // The program's own port 80 in dev admits only the redirect's namespace.
      assert.strictEqual(checkRoute(healthy("dev").x, healthy("dev").s, NONE).status, "pass");
    });

    it("NoMatchingListenerHostname: the listener hostname against the route's", () => {
      const { x, s } = healthy("dev");
      s.gateway!.spec.listeners[0].hostname = "other.example.com";
      s.route!.status!.parents![0].conditions = [no("Accepted", "NoMatchingListenerHostname"), ok("ResolvedRefs")];
      const r = checkRoute(x, s, NONE);
      assert.match(r.summary, /NoMatchingListenerHostname/);
      assert.match(
        r.cause!,
        /route is for dot-ai\.dev\.example\.com but the admitting listeners serve https: other\.example\.com/,
      );
      assert.match(r.fix![0], /pulumi config set dot-ai-gateway:hostname/);
    });

    it("NoMatchingParent: a sectionName no listener has", () => {
      const { x, s } = healthy("prod");
      s.route!.spec.parentRefs![0].sectionName = "grpc";
      const r = checkRoute(x, s, NONE);
      assert.match(r.summary, /NoMatchingParent/);
      assert.match(r.cause!, /no listener named 'grpc'; its listeners are http\/80, https\/443/);
    });

    it("BackendNotFound and RefNotPermitted name the backend", () => {
      const missing = withParent([
        ok("Accepted"),
        no("ResolvedRefs", "BackendNotFound", "Service dot-ai/dot-ai not found"),
      ]);
      const r1 = checkRoute(missing.x, missing.s, NONE);
      assert.match(r1.summary, /ResolvedRefs False \(BackendNotFound/);
      assert.match(r1.cause!, /a backend Service does not exist \(dot-ai\/dot-ai:3456\)/);
      const denied = withParent([ok("Accepted"), no("ResolvedRefs", "RefNotPermitted")]);
      denied.s.route!.spec.rules![0].backendRefs![0].namespace = "ai";
      const r2 = checkRoute(denied.x, denied.s, NONE);
      assert.match(r2.cause!, /ai\/dot-ai:3456.*without a ReferenceGrant there that permits HTTPRoutes from dot-ai/);
    });

    it("no status from any controller, or status for an older generation, is not a pass", () => {
      const { x, s } = healthy("prod");
      s.route!.status = { parents: [] };
      assert.match(checkRoute(x, s, NONE).cause!, /controller of class eg has not judged the route/);
      const stale = healthy("prod");
      stale.s.route!.metadata.generation = 2;
      assert.match(checkRoute(stale.x, stale.s, NONE).summary, /Accepted not yet written for the current route/);
    });

    it("a parentRef to another Gateway, other hostnames, other timeouts or another backend fail", () => {
      const other = healthy("prod");
      other.s.route!.spec.parentRefs = [{ name: "elsewhere", namespace: "gateway-system" }];
      assert.match(checkRoute(other.x, other.s, NONE).summary, /do not name Gateway gateway-system\/cluster-gateway/);
      const { x, s } = healthy("prod");
      s.route!.spec.hostnames = ["dot-ai.example.org"];
      s.route!.spec.rules![0].timeouts = { request: "30s", backendRequest: "30s" };
      s.route!.spec.rules![0].backendRefs = [{ name: "other", port: 80 }];
      const r = checkRoute(x, s, NONE);
      assert.match(r.summary, /hostnames dot-ai\.example\.org do not include dot-ai\.example\.com/);
      assert.match(r.summary, /timeouts request 30s\/backendRequest 30s, configured 3600s\/3600s/);
      assert.match(r.summary, /backend other:80, expected dot-ai:3456/);
    });

    it("equal durations in other spellings are the same timeout", () => {
      const { x, s } = healthy("prod");
      s.route!.spec.rules![0].timeouts = { request: "1h", backendRequest: "60m" };
      assert.strictEqual(checkRoute(x, s, NONE).status, "pass");
    });

    it("a missing route names the release", () => {
      const { x, s } = healthy("prod");
      s.route = null;
      const r = checkRoute(x, s, NONE);
      assert.strictEqual(r.summary, "HTTPRoute dot-ai/dot-ai does not exist");
      assert.ok(r.fix!.includes("helm list -n dot-ai"));
    });

    it("intersects hostnames and selects namespaces as Gateway API does", () => {
      assert.ok(hostnamesIntersect("*.example.com", ["dot-ai.example.com"]));
      assert.ok(hostnamesIntersect("*.example.com", ["a.b.example.com"]));
      assert.ok(!hostnamesIntersect("*.example.com", ["example.com"]));
      assert.ok(hostnamesIntersect(undefined, ["anything.example.org"]));
      assert.ok(hostnamesIntersect("a.example.com", []));
      assert.ok(hostnamesIntersect("a.example.com", ["*.example.com"]));
      assert.ok(!hostnamesIntersect("a.example.com", ["b.example.com"]));
      const selector = { name: "l", port: 80, protocol: "HTTP" };
      const expr = {
        ...selector,
        allowedRoutes: {
          namespaces: {
            from: "Selector",
            selector: { matchExpressions: [{ key: "team", operator: "In", values: ["ai"] }] },
          },
        },
      };
      assert.ok(namespaceAllowed(expr, "gw", "dot-ai", { team: "ai" }));
      assert.ok(!namespaceAllowed(expr, "gw", "dot-ai", { team: "web" }));
      assert.ok(!namespaceAllowed(selector, "gw", "dot-ai", {}), "Same is the default");
      assert.ok(namespaceAllowed(selector, "dot-ai", "dot-ai", {}));
    });
  });

  describe("Certificate", () => {
    it("not Ready because its ClusterIssuer is not Ready", () => {
      const { x, s } = healthy("prod");
      s.tls!.certificate!.status!.conditions = [no("Ready", "Pending", "Issuing")];
      s.tls!.issuer = {
        metadata: { name: "letsencrypt-prod" },
        status: { conditions: [no("Ready", "ErrRegisterACMEAccount")] },
      };
      const r = checkTls(x, s);
      assert.match(r.cause!, /ClusterIssuer letsencrypt-prod is not Ready: False \(ErrRegisterACMEAccount\)/);
      assert.ok(r.fix!.includes("kubectl get clusterissuer letsencrypt-prod"));
    });

    it("expiring within a week or expired: renewal is failing", () => {
      const { x, s } = healthy("prod");
      s.tls!.certificate!.status!.notAfter = "2026-11-29T13:00:00Z";
      const soon = checkTls(x, s);
      assert.strictEqual(soon.status, "fail");
      assert.match(soon.summary, /expires in 3 days/);
      assert.match(soon.cause!, /has not renewed it \(renewal was due 2027-01-25T12:00:00Z\)/);
      s.tls!.certificate!.status!.notAfter = "2026-11-20T12:00:00Z";
      assert.match(checkTls(x, s).summary, /expired 6 days ago/);
    });

    it("a Secret without tls.key fails; a listener refused a cross-namespace Secret says RefNotPermitted", () => {
      const { x, s } = healthy("prod");
      s.tls!.secret = { name: "wildcard-tls", namespace: "gateway-system", keys: ["tls.crt"], digests: {} };
      assert.match(checkTls(x, s).summary, /lacks tls\.key/);
      const ref = healthy("prod");
      ref.s.gateway!.status!.listeners![1].conditions = [no("ResolvedRefs", "RefNotPermitted")];
      const r = checkTls(ref.x, ref.s);
      assert.match(r.cause!, /without a ReferenceGrant there permitting Gateways from gateway-system/);
      assert.strictEqual(checkGateway(ref.x, ref.s, NONE).status, "pass", "the gateway check leaves it to tls");
    });

    it("plain HTTP stacks skip it", () => {
      const plain = expectations("dev", { https: "false", allowPlaintextHttp: "true" });
      assert.strictEqual(checkTls(plain, healthy("dev").s).status, "skip");
    });
  });

  describe("Deployments, Qdrant, Secret, external-dns", () => {
    it("a Deployment short of replicas shows why its pods do not start", () => {
      const { x, s } = healthy("prod");
      s.deployments!["dot-ai-agentic-tools"]!.status!.availableReplicas = 0;
      s.podProblems = {
        "dot-ai-agentic-tools": [
          {
            pod: "dot-ai-agentic-tools-5d9-abc",
            reason: "CreateContainerConfigError",
            message: "secret key not found",
          },
        ],
      };
      const r = checkWorkload(x, s);
      assert.strictEqual(r.summary, "Deployment dot-ai-agentic-tools: 0 of 1 replicas available");
      assert.strictEqual(
        r.cause,
        "pod dot-ai-agentic-tools-5d9-abc: CreateContainerConfigError (secret key not found)",
      );
      s.deployments!["dot-ai"] = null;
      assert.match(checkWorkload(x, s).summary, /^Deployment dot-ai does not exist/);
    });

    it("a Pending Qdrant claim on a cluster without a default StorageClass is named as such", () => {
      const { x, s } = healthy("prod");
      s.qdrant!.storage = {
        classes: [{ name: "slow", isDefault: false, provisioner: "x" }],
        volumes: [],
        claimPhase: "Pending",
      };
      const r = checkQdrant(x, s);
      assert.strictEqual(r.summary, "claim qdrant-storage-dot-ai-qdrant-0 is Pending");
      assert.match(r.cause!, /no default StorageClass \(it has slow, none marked default\)/);
      assert.match(r.fix![0], /kubectl patch storageclass slow/);
      const scaled = healthy("prod");
      scaled.s.qdrant!.statefulSet!.spec!.replicas = 0;
      assert.match(checkQdrant(scaled.x, scaled.s).fix![0], /kubectl scale statefulset dot-ai-qdrant/);
    });

    it("chart 0.170.0 without the auth key runs without authentication", () => {
      const { s } = healthy("dev");
      const x = expectations("dev", {}, "0.170.0");
      s.appSecret = {
        name: "dot-ai-secrets",
        namespace: "dot-ai",
        keys: ["anthropic-api-key", "openai-api-key"],
        digests: {},
      };
      assert.match(checkSecret(x, s).cause!, /reads it as optional: a restarted dot-ai runs WITHOUT authentication/);
    });

    it("a missing API key, a token that differs from the authToken output, and a missing Secret fail", () => {
      const { x, s } = healthy("prod");
      s.appSecret = {
        name: "dot-ai-secrets",
        namespace: "dot-ai",
        keys: ["auth-token"],
        digests: { "auth-token": sha256("other") },
      };
      const r = checkSecret(x, s);
      assert.match(r.summary, /lacks anthropic-api-key, openai-api-key; the token in auth-token differs/);
      assert.ok(!JSON.stringify(r).includes(TOKEN), "never shows the token");
      assert.ok(r.fix!.some((f) => /kubectl rollout restart deployment dot-ai -n dot-ai/.test(f)));
      s.appSecret = null;
      assert.strictEqual(checkSecret(x, s).summary, "Secret dot-ai/dot-ai-secrets does not exist");
    });

    it("Secrets the credentials may not read are not reported missing", () => {
      const { x, s } = healthy("prod");
      s.appSecret = "forbidden";
      s.tls!.secret = "forbidden";
      const results = diagnose(x, s);
      assert.deepStrictEqual(failing(results), []);
      assert.match(results.find((r) => r.id === "secret")!.summary, /may not read Secret dot-ai\/dot-ai-secrets/);
      assert.strictEqual(results.find((r) => r.id === "tls")!.status, "pass", "the Certificate is still checked");
    });

    it("dev: the chart's Gateway carries the external-dns hostname", () => {
      const { x, s } = healthy("dev");
      assert.strictEqual(checkExternalDns(x, s).status, "pass");
      delete s.gateway!.metadata.annotations;
      const r = checkExternalDns(x, s);
      assert.match(r.summary, /no external-dns\.alpha\.kubernetes\.io\/hostname annotation/);
    });
  });
});

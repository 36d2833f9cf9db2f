import * as assert from "assert";

import { NAME, policy } from "../../policy/mcp-no-plaintext-http";
import {
  SHARED_LABEL,
  TestResource,
  UNKNOWN_STRING,
  creationValues,
  httpListenerPatch,
  listener,
  namespace,
  redirectRoute,
  referenceValues,
  release,
  sharedGateway,
  validateAll,
  validateResource,
  validateStack,
} from "./support";

/** The reference pattern's stack (prod), in its secure shape unless parts are replaced. */
function referenceStack(parts: { gateway?: TestResource; app?: TestResource; values?: unknown } = {}): TestResource[] {
  return [
    namespace("gateway-system"),
    parts.app ?? namespace("dot-ai", SHARED_LABEL),
    parts.gateway ?? sharedGateway(),
    redirectRoute("gateway-system", "cluster-gateway", "gateway-system"),
    release(parts.values ?? referenceValues()),
  ];
}

/** The creation pattern's stack (dev): the chart's Gateway, plus an HTTP listener for the redirect only. */
function creationStack(patchLabels = { "kubernetes.io/metadata.name": "dot-ai-https-redirect" }): TestResource[] {
  return [
    namespace("dot-ai"),
    namespace("dot-ai-https-redirect"),
    release(creationValues()),
    httpListenerPatch(patchLabels),
    redirectRoute("dot-ai-https-redirect", "dot-ai-http", "dot-ai"),
  ];
}

function withHttp(http: Record<string, unknown>): Record<string, unknown> {
  const values = creationValues();
  const gateway = values.gateway as Record<string, unknown>;
  return { ...values, gateway: { ...gateway, listeners: { ...(gateway.listeners as object), http } } };
}

describe(`policy ${NAME}`, () => {
  it("is mandatory, with the allowPlaintextHttp opt-in in its config schema (default false)", () => {
    assert.strictEqual(policy.enforcementLevel, "mandatory");
    assert.deepStrictEqual(policy.configSchema?.properties.allowPlaintextHttp, {
      type: "boolean",
      default: false,
      description: policy.configSchema?.properties.allowPlaintextHttp.description,
    });
  });

  describe("the chart's own Gateway (creation pattern)", () => {
    it("passes HTTPS only (listeners.http.enabled false)", async () => {
      assert.deepStrictEqual(await validateResource(policy, release(creationValues())), []);
    });

    it("refuses the HTTP listener on, set or left to the chart's default", async () => {
      for (const http of [{ enabled: true }, { hostname: "dot-ai.dev.example.com" }, { enabled: "false" }]) {
        const violations = await validateResource(policy, release(withHttp(http)));
        assert.strictEqual(violations.length, 1, JSON.stringify(http));
        assert.match(violations[0].message, /plain-HTTP listener on port 80/);
        assert.match(violations[0].message, /gateway\.listeners\.http\.enabled: false/);
      }
    });

    it("accepts it with the policy's opt-in", async () => {
      const violations = await validateResource(policy, release(withHttp({ enabled: true })), {
        allowPlaintextHttp: true,
      });
      assert.deepStrictEqual(violations, []);
    });

    it("skips values not known at preview, without throwing", async () => {
      assert.deepStrictEqual(await validateResource(policy, release(UNKNOWN_STRING)), []);
      assert.deepStrictEqual(await validateResource(policy, release(withHttp({ enabled: UNKNOWN_STRING }))), []);
    });

    it("passes the stack whose HTTP listener (a GatewayPatch) admits only the redirect's namespace", async () => {
      assert.deepStrictEqual(await validateAll(policy, creationStack()), []);
    });

    it("refuses a GatewayPatch HTTP listener whose Selector admits the release's namespace", async () => {
      const violations = await validateAll(policy, creationStack({ "kubernetes.io/metadata.name": "dot-ai" }));
      assert.strictEqual(violations.length, 1);
      assert.match(violations[0].message, /Gateway dot-ai\/dot-ai-http: listener 'http' \(HTTP, port 80\)/);
      assert.match(violations[0].urn!, /GatewayPatch::dot-ai-https-redirect-listener$/);
    });
  });

  describe("a shared Gateway (reference pattern)", () => {
    it("passes the secure shape: HTTP admits only Same, HTTPS the labelled app namespace", async () => {
      assert.deepStrictEqual(await validateAll(policy, referenceStack()), []);
    });

    it("refuses an HTTP listener that admits All namespaces, before deployment", async () => {
      const gateway = sharedGateway([listener("http", "HTTP", 80, { from: "All" })]);
      const violations = await validateResource(policy, gateway);
      assert.strictEqual(violations.length, 1);
      assert.match(violations[0].message, /listener 'http' \(HTTP, port 80\) admits routes from All namespaces/);
      // Only once: the stack check leaves All to the resource check.
      assert.strictEqual((await validateAll(policy, referenceStack({ gateway }))).length, 1);
    });

    it("leaves All on HTTPS listeners to other policies", async () => {
      const gateway = sharedGateway([listener("https", "HTTPS", 443, { from: "All" })]);
      assert.deepStrictEqual(await validateAll(policy, referenceStack({ gateway })), []);
    });

    it("refuses an HTTP listener whose Selector admits the app namespace (the route has no sectionName)", async () => {
      const gateway = sharedGateway([
        listener("http", "HTTP", 80, { from: "Selector", selector: { matchLabels: SHARED_LABEL } }),
        listener("https", "HTTPS", 443, { from: "Selector", selector: { matchLabels: SHARED_LABEL } }),
      ]);
      const violations = await validateStack(policy, referenceStack({ gateway }));
      assert.strictEqual(violations.length, 1);
      assert.match(violations[0].message, /Gateway gateway-system\/cluster-gateway: listener 'http'/);
      assert.match(violations[0].message, /namespace 'dot-ai'/);
      assert.match(violations[0].urn!, /Gateway::cluster-gateway$/);
    });

    it("also with matchExpressions, and not when the app namespace lacks the label", async () => {
      const selector = { matchExpressions: [{ key: "dot-ai-gateway/shared-gateway", operator: "Exists" }] };
      const gateway = sharedGateway([listener("http", "HTTP", 80, { from: "Selector", selector })]);
      assert.strictEqual((await validateStack(policy, referenceStack({ gateway }))).length, 1);
      const unlabelled = namespace("dot-ai", { team: "a" });
      assert.deepStrictEqual(await validateStack(policy, referenceStack({ gateway, app: unlabelled })), []);
    });

    it("at preview, with the release's values unknown, still judges the Gateways of its stack", async () => {
      const gateway = sharedGateway([
        listener("http", "HTTP", 80, { from: "Selector", selector: { matchLabels: SHARED_LABEL } }),
      ]);
      assert.strictEqual((await validateStack(policy, referenceStack({ gateway, values: UNKNOWN_STRING }))).length, 1);
      assert.deepStrictEqual(await validateStack(policy, referenceStack({ values: UNKNOWN_STRING })), []);
    });

    it("accepts the insecure shapes with the policy's opt-in", async () => {
      const gateway = sharedGateway([listener("http", "HTTP", 80, { from: "All" })]);
      assert.deepStrictEqual(await validateAll(policy, referenceStack({ gateway }), { allowPlaintextHttp: true }), []);
    });
  });

  describe("a platform stack (no dot-ai release)", () => {
    const platform = (gateway: TestResource): TestResource[] => [namespace("gateway-system"), gateway];

    it("passes an HTTP listener that admits only its own namespace (Same, or a Selector on its name)", async () => {
      assert.deepStrictEqual(await validateAll(policy, platform(sharedGateway())), []);
      const own = { from: "Selector", selector: { matchLabels: { "kubernetes.io/metadata.name": "gateway-system" } } };
      assert.deepStrictEqual(
        await validateAll(policy, platform(sharedGateway([listener("http", "HTTP", 80, own)]))),
        [],
      );
    });

    it("refuses an HTTP listener whose Selector admits app namespaces", async () => {
      const gateway = sharedGateway([
        listener("http", "HTTP", 80, { from: "Selector", selector: { matchLabels: SHARED_LABEL } }),
      ]);
      const violations = await validateAll(policy, platform(gateway));
      assert.strictEqual(violations.length, 1);
      assert.match(violations[0].message, /This stack has no dot-ai release/);
    });
  });

  describe("HTTPRoutes on a plain-HTTP listener", () => {
    it("refuses one that forwards to backends, passes one that only redirects", async () => {
      const forwarding = redirectRoute("gateway-system", "cluster-gateway", "gateway-system");
      const spec = forwarding.props.spec as Record<string, unknown>;
      forwarding.props.spec = {
        ...spec,
        rules: [{ backendRefs: [{ name: "dot-ai", namespace: "dot-ai", port: 3456 }] }],
      };
      forwarding.name = "forwarding";
      const violations = await validateStack(policy, [...referenceStack(), forwarding]);
      assert.strictEqual(violations.length, 1);
      assert.match(violations[0].message, /HTTPRoute gateway-system\/https-redirect attaches to the plain-HTTP/);
      assert.match(violations[0].urn!, /HTTPRoute::forwarding$/);
    });
  });
});

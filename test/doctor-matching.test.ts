/** How doctor reads Gateway API and Kubernetes objects: the matching rules its checks are built on. */
import * as assert from "assert";

import { kindAllowed, refersTo } from "../doctor/checks/route";
import { Condition, conditionState, describeCondition, selectorMatches } from "../doctor/model";

describe("doctor's matching rules", () => {
  describe("a label selector, as Kubernetes evaluates it", () => {
    const labels = { team: "ai", tier: "web" };

    it("matches everything when absent or empty", () => {
      assert.ok(selectorMatches(undefined, {}));
      assert.ok(selectorMatches({}, labels));
    });

    it("needs every matchLabels pair", () => {
      assert.ok(selectorMatches({ matchLabels: { team: "ai" } }, labels));
      assert.ok(!selectorMatches({ matchLabels: { team: "ai", tier: "db" } }, labels));
    });

    it("evaluates In, NotIn, Exists and DoesNotExist, a missing label satisfying only NotIn and DoesNotExist", () => {
      const matches = (operator: string, values?: string[]) =>
        [labels, {}].map((l) => selectorMatches({ matchExpressions: [{ key: "team", operator, values }] }, l));
      assert.deepStrictEqual(matches("In", ["ai", "ml"]), [true, false]);
      assert.deepStrictEqual(matches("In", ["web"]), [false, false]);
      assert.deepStrictEqual(matches("NotIn", ["web"]), [true, true]);
      assert.deepStrictEqual(matches("NotIn", ["ai"]), [false, true]);
      assert.deepStrictEqual(matches("Exists"), [true, false]);
      assert.deepStrictEqual(matches("DoesNotExist"), [false, true]);
    });

    it("matches nothing through an expression Kubernetes refuses: an unknown operator, In/NotIn without values, Exists with some", () => {
      const matches = (operator: string, values?: string[]) =>
        [labels, {}].map((l) => selectorMatches({ matchExpressions: [{ key: "team", operator, values }] }, l));
      assert.deepStrictEqual(matches("Equals", ["ai"]), [false, false]);
      assert.deepStrictEqual(matches("in", ["ai"]), [false, false]);
      assert.deepStrictEqual(matches("NotIn", []), [false, false]);
      assert.deepStrictEqual(matches("In"), [false, false]);
      assert.deepStrictEqual(matches("Exists", ["ai"]), [false, false]);
      assert.deepStrictEqual(matches("DoesNotExist", ["x"]), [false, false]);
    });

    it("needs matchLabels and every expression together", () => {
      const selector = {
        matchLabels: { team: "ai" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["db"] }],
      };
      assert.ok(!selectorMatches(selector, labels));
      assert.ok(selectorMatches(selector, { team: "ai", tier: "db" }));
    });
  });

  describe("a status condition", () => {
    const programmed = (status: string, observedGeneration?: number): Condition[] => [
      { type: "Accepted", status: "True" },
      { type: "Programmed", status, reason: "Pending", message: "waiting for an address", observedGeneration },
    ];

    it("reads True, False, Unknown, or missing when the controller never wrote it", () => {
      assert.strictEqual(conditionState(programmed("True"), "Programmed"), "true");
      assert.strictEqual(conditionState(programmed("False"), "Programmed"), "false");
      assert.strictEqual(conditionState(programmed("Unknown"), "Programmed"), "unknown");
      assert.strictEqual(conditionState(programmed("True"), "ResolvedRefs"), "missing");
      assert.strictEqual(conditionState(undefined, "Programmed"), "missing");
    });

    it("is stale when written for an older generation: the controller has not seen the latest change", () => {
      assert.strictEqual(conditionState(programmed("True", 2), "Programmed", 3), "stale");
      assert.strictEqual(conditionState(programmed("True", 3), "Programmed", 3), "true");
      assert.strictEqual(
        conditionState(programmed("True"), "Programmed", 3),
        "true",
        "no observedGeneration to compare",
      );
    });

    it("is described with its reason and message for a cause line", () => {
      assert.strictEqual(describeCondition(programmed("False")[1]), "False (Pending: waiting for an address)");
      assert.strictEqual(describeCondition({ type: "Ready", status: "True", reason: "Ready" }), "True (Ready)");
      assert.strictEqual(describeCondition({ type: "Ready", status: "Unknown" }), "Unknown");
      assert.strictEqual(describeCondition(undefined), "not set");
    });
  });

  describe("an HTTPRoute's parentRef", () => {
    it("names a Gateway by name, in the route's own namespace unless it says another", () => {
      assert.ok(refersTo({ name: "dot-ai-http" }, "dot-ai", "dot-ai-http", "dot-ai"));
      assert.ok(
        refersTo(
          { name: "cluster-gateway", namespace: "gateway-system" },
          "dot-ai",
          "cluster-gateway",
          "gateway-system",
        ),
      );
      assert.ok(
        !refersTo({ name: "cluster-gateway" }, "dot-ai", "cluster-gateway", "gateway-system"),
        "namespace defaults to the route's",
      );
      assert.ok(!refersTo({ name: "other" }, "dot-ai", "dot-ai-http", "dot-ai"));
    });

    it("refers to nothing of ours when it names another kind or group", () => {
      assert.ok(!refersTo({ name: "dot-ai", kind: "Service", group: "" }, "dot-ai", "dot-ai", "dot-ai"));
      assert.ok(!refersTo({ name: "dot-ai", group: "example.com" }, "dot-ai", "dot-ai", "dot-ai"));
      assert.ok(
        refersTo({ name: "dot-ai", kind: "Gateway", group: "gateway.networking.k8s.io" }, "dot-ai", "dot-ai", "dot-ai"),
      );
    });
  });

  describe("a listener", () => {
    const listener = { name: "l", port: 80, protocol: "HTTP" };

    it("admits HTTPRoutes on HTTP and HTTPS by default, not on TCP or TLS", () => {
      assert.ok(kindAllowed(listener));
      assert.ok(kindAllowed({ ...listener, protocol: "HTTPS" }));
      assert.ok(!kindAllowed({ ...listener, protocol: "TCP" }));
      assert.ok(!kindAllowed({ ...listener, protocol: "TLS" }));
    });

    it("admits them only if its allowedRoutes.kinds lists HTTPRoute of the Gateway API group", () => {
      const kinds = (k: { group?: string; kind: string }[]) =>
        kindAllowed({ ...listener, allowedRoutes: { kinds: k } });
      assert.ok(kinds([{ kind: "HTTPRoute" }]));
      assert.ok(!kinds([{ kind: "GRPCRoute" }]));
      assert.ok(!kinds([{ kind: "HTTPRoute", group: "example.com" }]));
      assert.ok(kinds([]), "an empty list is the default");
    });
  });
});

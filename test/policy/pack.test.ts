/** The pack as a whole: its policies, and that none of them throws on shapes nobody planned for. */
import * as assert from "assert";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { policies } from "../../policy/policies";
import { UNKNOWN_SENTINELS } from "../../policy/lib/values";
import {
  T,
  TestResource,
  UNKNOWN_STRING,
  creationValues,
  referenceValues,
  release,
  sharedGateway,
  unknownCheckingProxy,
  validateResource,
  validateStack,
} from "./support";

const EXPECTED = {
  "mcp-no-plaintext-http": "mandatory",
  "helm-values-no-secrets": "mandatory",
  "prod-gateway-no-all-namespaces": "mandatory",
  "dot-ai-sse-timeouts": "advisory",
  "dot-ai-cluster-wide-write": "advisory",
  "pinned-chart-and-images": "advisory",
  "prod-certificate-real-issuer": "mandatory",
};

describe("policy pack", () => {
  it("has the seven policies at their enforcement levels", () => {
    assert.deepStrictEqual(Object.fromEntries(policies.map((p) => [p.name, p.enforcementLevel])), EXPECTED);
  });

  it("relies on an SDK seam that holds: a proxied unknown value throws when read", () => {
    assert.ok(UNKNOWN_SENTINELS.has(UNKNOWN_STRING));
    assert.strictEqual(typeof unknownCheckingProxy, "function");
    const props = unknownCheckingProxy({ values: { token: UNKNOWN_STRING } }) as { values: { token: string } };
    assert.throws(() => props.values.token, /can't be known during preview/);
  });

  describe("never throws, and never gets to its catch-all, on odd shapes", () => {
    const odd: unknown[] = [
      UNKNOWN_STRING,
      null,
      "text",
      42,
      [],
      [null, UNKNOWN_STRING],
      { metadata: UNKNOWN_STRING, spec: { listeners: UNKNOWN_STRING, issuerRef: null, rules: "x" } },
      {
        metadata: { name: 1, namespace: [] },
        spec: { listeners: [null, "x", { allowedRoutes: { namespaces: null } }] },
      },
      {
        spec: {
          listeners: [{ protocol: UNKNOWN_STRING, allowedRoutes: { namespaces: { from: "Selector", selector: 7 } } }],
          parentRefs: [{ sectionName: "http", name: UNKNOWN_STRING }],
          rules: [{ backendRefs: UNKNOWN_STRING }],
        },
      },
      { name: UNKNOWN_STRING, chart: 3, namespace: UNKNOWN_STRING, values: { gateway: UNKNOWN_STRING, secrets: [] } },
      { values: { gateway: { create: true, listeners: UNKNOWN_STRING }, secrets: {}, image: [UNKNOWN_STRING] } },
    ];
    const types = [...Object.values(T), "pulumi:pulumi:Stack", "kubernetes:gateway.networking.k8s.io/v1beta1:Gateway"];
    const resources: TestResource[] = types.flatMap((type) =>
      odd.map((props, i) => ({
        type,
        name: `odd-${i}`,
        stack: "prod",
        props: { v: props, ...(isRecord(props) ? props : {}) },
      })),
    );
    resources.push(release(referenceValues()), release(creationValues()), sharedGateway(undefined, "prod"));

    let errors: unknown[][] = [];
    const original = console.error;
    beforeEach(() => {
      errors = [];
      console.error = (...args: unknown[]) => errors.push(args);
    });
    afterEach(() => {
      console.error = original;
    });

    for (const policy of policies) {
      it(policy.name, async () => {
        for (const config of [{}, { prodStacks: "prod", allowedIssuers: [1], allowPlaintextHttp: "yes" }]) {
          const both = policy as Partial<ResourceValidationPolicy & StackValidationPolicy>;
          if (both.validateResource) {
            for (const r of resources) await validateResource(policy as ResourceValidationPolicy, r, config);
          }
          if (both.validateStack) await validateStack(policy as StackValidationPolicy, resources, config);
        }
        assert.deepStrictEqual(errors, [], "no check was skipped on an unexpected error");
      });
    }
  });
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

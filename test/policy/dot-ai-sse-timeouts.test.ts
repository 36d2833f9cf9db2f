import * as assert from "assert";

import { NAME, policy } from "../../policy/dot-ai-sse-timeouts";
import { T, creationValues, referenceValues, release, validateResource } from "./support";

function withTimeouts(timeouts: Record<string, unknown> | undefined): Record<string, unknown> {
  const values = referenceValues();
  const gateway = { ...(values.gateway as Record<string, unknown>) };
  delete gateway.timeouts;
  return { ...values, gateway: timeouts ? { ...gateway, timeouts } : gateway };
}

describe(`policy ${NAME}`, () => {
  it("is advisory", () => assert.strictEqual(policy.enforcementLevel, "advisory"));

  it("passes the dot-ai release with both timeouts (reference and creation pattern)", async () => {
    assert.deepStrictEqual(await validateResource(policy, release(referenceValues())), []);
    assert.deepStrictEqual(await validateResource(policy, release(creationValues())), []);
  });

  it("flags a missing or empty timeout, naming it", async () => {
    const one = await validateResource(policy, release(withTimeouts({ request: "3600s", backendRequest: "" })));
    assert.strictEqual(one.length, 1);
    assert.match(one[0].message, /does not set gateway\.timeouts\.backendRequest:/);
    const both = await validateResource(policy, release(withTimeouts(undefined)));
    assert.match(both[0].message, /gateway\.timeouts\.request and gateway\.timeouts\.backendRequest/);
  });

  it("leaves releases without an HTTPRoute, and other charts, alone", async () => {
    const ingress = { ...referenceValues(), gateway: {}, ingress: { enabled: true } };
    assert.deepStrictEqual(await validateResource(policy, release(ingress)), []);
    const other = {
      type: T.release,
      props: { chart: "oci://registry/charts/nginx", values: { gateway: { name: "x" } } },
    };
    assert.deepStrictEqual(await validateResource(policy, other), []);
  });
});

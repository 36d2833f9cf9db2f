import * as assert from "assert";

import { NAME, policy } from "../../policy/dot-ai-cluster-wide-write";
import { UNKNOWN_STRING, referenceValues, release, validateResource } from "./support";

function withServiceAccount(serviceAccount: unknown): Record<string, unknown> {
  const values = referenceValues();
  delete values.serviceAccount;
  return serviceAccount === undefined ? values : { ...values, serviceAccount };
}

describe(`policy ${NAME}`, () => {
  it("is advisory", () => assert.strictEqual(policy.enforcementLevel, "advisory"));

  it("passes serviceAccount.create false (the scoped choice)", async () => {
    assert.deepStrictEqual(await validateResource(policy, release(referenceValues())), []);
  });

  it("flags the chart's default, and values Helm takes as true, naming the ClusterRole", async () => {
    for (const serviceAccount of [undefined, {}, { create: true }, { create: "false" }]) {
      const violations = await validateResource(policy, release(withServiceAccount(serviceAccount)));
      assert.strictEqual(violations.length, 1, JSON.stringify(serviceAccount));
      assert.match(violations[0].message, /ClusterRole 'dot-ai' with create\/update\/patch\/delete/);
    }
    const renamed = release(withServiceAccount(undefined), { name: "team-a" });
    assert.match((await validateResource(policy, renamed))[0].message, /ClusterRole 'team-a-dot-ai'/);
  });

  it("skips an unknown serviceAccount.create", async () => {
    assert.deepStrictEqual(await validateResource(policy, release(withServiceAccount({ create: UNKNOWN_STRING }))), []);
  });
});

import * as assert from "assert";

import { NAME, policy } from "../../policy/prod-gateway-no-all-namespaces";
import { T, listener, sharedGateway, validateResource } from "./support";

const ALL = [listener("http", "HTTP", 80, { from: "Same" }), listener("https", "HTTPS", 443, { from: "All" })];

describe(`policy ${NAME}`, () => {
  it("is mandatory", () => assert.strictEqual(policy.enforcementLevel, "mandatory"));

  it("passes a prod Gateway whose listeners admit Same and Selector", async () => {
    assert.deepStrictEqual(await validateResource(policy, sharedGateway(undefined, "prod")), []);
  });

  it("refuses a prod Gateway with a listener that admits All, naming it", async () => {
    const violations = await validateResource(policy, sharedGateway(ALL, "prod"));
    assert.strictEqual(violations.length, 1);
    assert.match(violations[0].message, /on prod stack 'prod': listener 'https' \(HTTPS, port 443\) admits routes/);
  });

  it("refuses it on a GatewayPatch too", async () => {
    const patch = { ...sharedGateway(ALL, "prod"), type: T.gatewayPatch };
    assert.strictEqual((await validateResource(policy, patch)).length, 1);
  });

  it("leaves other stacks alone, and takes the prod stacks from config", async () => {
    assert.deepStrictEqual(await validateResource(policy, sharedGateway(ALL, "dev")), []);
    const staging = sharedGateway(ALL, "policy-prod");
    assert.deepStrictEqual(await validateResource(policy, staging), []);
    for (const prodStacks of [["policy-prod"], ["dot-ai-gateway/policy-prod"], ["acme/dot-ai-gateway/policy-prod"]]) {
      assert.strictEqual((await validateResource(policy, staging, { prodStacks })).length, 1, prodStacks[0]);
    }
    assert.deepStrictEqual(await validateResource(policy, staging, { prodStacks: ["other-project/policy-prod"] }), []);
  });
});

import * as assert from "assert";

import {
  GATEWAY_API_FLOOR,
  REFERENCE_GRANT_V1_SINCE,
  bundleAtLeast,
  gatewayApiVersions,
} from "../components/gateway-api";

describe("Gateway API bundle versions", () => {
  it("compare as versions, not strings: v1.10.0 is newer than v1.5.0", () => {
    assert.ok(bundleAtLeast("v1.10.0", "v1.5.0"));
    assert.ok(!bundleAtLeast("v1.4.9", "v1.5.0"));
    assert.ok(bundleAtLeast("v1.5.0", "v1.5.0"), "the release itself");
  });

  it("count a release candidate of the threshold release, not one of an earlier release", () => {
    assert.ok(bundleAtLeast("v1.5.0-rc.1", REFERENCE_GRANT_V1_SINCE));
    assert.ok(!bundleAtLeast("v1.4.0-rc.1", REFERENCE_GRANT_V1_SINCE));
  });

  it("treat a tag that is no version as below every threshold", () => {
    for (const tag of ["latest", "main", "", "v1.5"]) assert.ok(!bundleAtLeast(tag, GATEWAY_API_FLOOR), tag);
  });

  it("create the ReferenceGrant as v1 from v1.5.0 on, as v1beta1 before; Gateway and HTTPRoute always v1", () => {
    const referenceGrant = (bundle: string) => gatewayApiVersions(bundle).referenceGrant;
    assert.strictEqual(referenceGrant("v1.2.1"), "v1beta1");
    assert.strictEqual(referenceGrant("v1.4.1"), "v1beta1");
    assert.strictEqual(referenceGrant("v1.5.0-rc.1"), "v1");
    assert.strictEqual(referenceGrant("v1.6.3"), "v1");
    assert.deepStrictEqual(gatewayApiVersions("v1.0.0"), { gateway: "v1", httpRoute: "v1", referenceGrant: "v1beta1" });
  });
});

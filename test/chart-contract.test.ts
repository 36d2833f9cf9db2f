import * as assert from "assert";

import {
  chartFullname,
  createdGatewayName,
  hasDeploymentMethod,
  inRange,
  isBelowFloor,
  isNewerThanVerified,
  parseChartVersion,
  secretEntriesOf,
} from "../components/chart-contract";

describe("chart version rules", () => {
  it("read a version as typed, with or without a leading v or spaces, and nothing else", () => {
    assert.strictEqual(parseChartVersion("2.2.2"), "2.2.2");
    assert.strictEqual(parseChartVersion(" v1.25.0 "), "1.25.0");
    assert.strictEqual(parseChartVersion("1.25.0-rc.1"), "1.25.0-rc.1");
    for (const text of ["latest", "2.2", "", "^2.2.2"]) assert.strictEqual(parseChartVersion(text), undefined, text);
  });

  it("put the floor at 0.170.0, the first chart with the Gateway API values", () => {
    assert.ok(isBelowFloor("0.169.9"));
    assert.ok(!isBelowFloor("0.170.0"));
    assert.ok(!isBelowFloor("2.2.2"));
  });

  it("call only versions past 2.2.2 unverified", () => {
    assert.ok(!isNewerThanVerified("2.2.2"));
    assert.ok(!isNewerThanVerified("1.25.0"));
    assert.ok(isNewerThanVerified("2.2.3"));
    assert.ok(isNewerThanVerified("3.0.0"));
  });

  it("hold a fact from `since` (inclusive) until `until` (exclusive)", () => {
    const range = { since: "1.12.0", until: "1.20.0" };
    assert.deepStrictEqual(
      ["1.11.9", "1.12.0", "1.19.9", "1.20.0"].map((v) => inRange(v, range)),
      [false, true, true, false],
    );
    assert.ok(inRange("9.0.0", { since: "1.12.0" }), "no until: still true");
  });

  it("pass deployment.method to 0.x only: 1.0.0 dropped the key", () => {
    assert.ok(hasDeploymentMethod("0.170.0"));
    assert.ok(hasDeploymentMethod("0.999.0"));
    assert.ok(!hasDeploymentMethod("1.0.0"));
    assert.ok(!hasDeploymentMethod("1.0.1"));
    assert.ok(!hasDeploymentMethod("2.2.2"));
  });

  it("give the alibaba entry from 1.12.0 and copilot from 1.20.0, the other keys from the floor", () => {
    const base = ["anthropic", "openai", "google", "xai", "moonshot"];
    assert.deepStrictEqual(secretEntriesOf("0.170.0"), base);
    assert.deepStrictEqual(secretEntriesOf("1.11.0"), base);
    assert.deepStrictEqual(secretEntriesOf("1.12.0"), [...base, "alibaba"]);
    assert.deepStrictEqual(secretEntriesOf("1.19.3"), [...base, "alibaba"]);
    assert.deepStrictEqual(secretEntriesOf("1.20.0"), [...base, "alibaba", "copilot"]);
  });
});

describe("names the chart derives from the release name", () => {
  it("are the release name when it contains dot-ai, else <release>-dot-ai", () => {
    assert.strictEqual(chartFullname("dot-ai"), "dot-ai");
    assert.strictEqual(chartFullname("dot-ai-team-a"), "dot-ai-team-a");
    assert.strictEqual(chartFullname("team-a"), "team-a-dot-ai");
  });

  it("are cut to 63 characters without a trailing dash, as Kubernetes names must be", () => {
    const long = `${"a".repeat(50)}-dot-ai-${"b".repeat(10)}`;
    assert.strictEqual(chartFullname(long), long.slice(0, 63));
    const dashAt63 = `${"a".repeat(55)}-dot-ai-xyz`;
    assert.strictEqual(chartFullname(dashAt63), `${"a".repeat(55)}-dot-ai`, "the cut leaves no trailing dash");
  });

  it("give the Gateway the chart creates in the creation pattern", () => {
    assert.strictEqual(createdGatewayName("dot-ai"), "dot-ai-http");
    assert.strictEqual(createdGatewayName("team-a"), "team-a-dot-ai-http");
  });
});

import * as assert from "assert";

import { SKIP_AWAIT, awaitAnnotations, explainAfterSeconds, formatSeconds } from "../components/await";

describe("waiting for a controller", () => {
  it("is asked of pulumi-kubernetes as a condition with the timeout in seconds", () => {
    assert.deepStrictEqual(awaitAnnotations(true, "Programmed", 90), {
      "pulumi.com/waitFor": "condition=Programmed",
      "pulumi.com/timeoutSeconds": "90",
    });
    assert.strictEqual(awaitAnnotations(true, "Ready")["pulumi.com/timeoutSeconds"], "600", "10 minutes by default");
  });

  it("is skipped altogether when switched off, whatever the timeout", () => {
    assert.deepStrictEqual(awaitAnnotations(false, "Programmed", 90), { "pulumi.com/skipAwait": "true" });
  });

  it("hands out a copy of the skip annotations, so one resource adding its own cannot change another's", () => {
    const mine = awaitAnnotations(false, "Ready");
    mine["example.com/extra"] = "x";
    assert.deepStrictEqual(SKIP_AWAIT, { "pulumi.com/skipAwait": "true" });
    assert.deepStrictEqual(awaitAnnotations(false, "Ready"), { "pulumi.com/skipAwait": "true" });
  });

  it("is explained after a minute, or after half the timeout when that is shorter", () => {
    assert.strictEqual(explainAfterSeconds(600), 60);
    assert.strictEqual(explainAfterSeconds(120), 60);
    assert.strictEqual(explainAfterSeconds(90), 45);
    assert.strictEqual(explainAfterSeconds(3), 2, "rounded up, never zero for a running wait");
  });

  it("has its timeout written as a user would in messages", () => {
    assert.deepStrictEqual([600, 90, 45, 60, 0, 3725].map(formatSeconds), ["10m", "1m30s", "45s", "1m", "0s", "62m5s"]);
  });
});

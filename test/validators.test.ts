import * as assert from "assert";

import {
  checkDnsLabel,
  checkDnsSubdomain,
  checkDomain,
  checkHostname,
  isCoveredByWildcard,
  parentDomain,
  parseGatewayDuration,
} from "../stacks/validators";

describe("Gateway API durations (GEP-2257), as timeouts are typed", () => {
  it("read one to four parts of hours, minutes, seconds and milliseconds", () => {
    assert.strictEqual(parseGatewayDuration("3600s"), 3_600_000);
    assert.strictEqual(parseGatewayDuration("1h30m"), 5_400_000);
    assert.strictEqual(parseGatewayDuration("500ms"), 500);
    assert.strictEqual(parseGatewayDuration("1h1m1s1ms"), 3_661_001);
    assert.strictEqual(parseGatewayDuration("0s"), 0);
  });

  it("tell milliseconds from minutes", () => {
    assert.strictEqual(parseGatewayDuration("10m"), 600_000);
    assert.strictEqual(parseGatewayDuration("10ms"), 10);
    assert.strictEqual(parseGatewayDuration("1m10ms"), 60_010);
  });

  it("refuse what Gateway API refuses: spaces, fractions, days, more than five digits or four parts, no unit", () => {
    for (const value of ["1 hour", "1.5h", "1d", "100000s", "1h1m1s1ms1h", "60", "", "-1s", "1H"]) {
      assert.strictEqual(parseGatewayDuration(value), undefined, value);
    }
    assert.strictEqual(parseGatewayDuration("99999s"), 99_999_000, "five digits are allowed");
  });
});

describe("names users type", () => {
  it("a Kubernetes name: lowercase RFC 1123 label, at most 63 characters unless a caller says otherwise", () => {
    assert.strictEqual(checkDnsLabel("dot-ai-team-1"), undefined);
    assert.match(checkDnsLabel("")!, /must not be empty/);
    assert.match(checkDnsLabel("a".repeat(64))!, /is 64 characters long; the limit is 63/);
    assert.match(checkDnsLabel("a".repeat(54), 53)!, /the limit is 53/);
    for (const bad of ["Dot-ai", "-dot-ai", "dot-ai-", "dot_ai", "dot.ai"]) assert.ok(checkDnsLabel(bad), bad);
  });

  it("a Secret name: dot-separated labels, naming the bad part", () => {
    assert.strictEqual(checkDnsSubdomain("wildcard-tls.v1"), undefined);
    assert.match(checkDnsSubdomain("tls.Bad_Part")!, /invalid part 'Bad_Part'/);
    assert.match(checkDnsSubdomain(`${"a".repeat(63)}.`.repeat(4) + "abc")!, /the limit is 253/);
  });

  it("a hostname: a fully qualified DNS name, lowercase, without wildcard, trailing dot or IP address", () => {
    assert.strictEqual(checkHostname("dot-ai.example.com"), undefined);
    assert.match(checkHostname("*.example.com")!, /wildcard/);
    assert.match(checkHostname("Dot-ai.example.com")!, /lowercase/);
    assert.match(checkHostname("dot-ai.example.com.")!, /end with a dot/);
    assert.match(checkHostname("localhost")!, /at least two labels/);
    assert.match(checkHostname("10.0.0.1")!, /not an IP address/);
  });

  it("a domain: like a hostname, and a leading *. is refused with the value to use instead", () => {
    assert.strictEqual(checkDomain("example.com"), undefined);
    assert.match(checkDomain("*.example.com")!, /use 'example\.com', the program adds '\*\.' itself/);
  });
});

describe("the wildcard certificate's domain", () => {
  it("covers the domain itself and exactly one label below it", () => {
    assert.ok(isCoveredByWildcard("example.com", "example.com"));
    assert.ok(isCoveredByWildcard("dot-ai.example.com", "example.com"));
    assert.ok(!isCoveredByWildcard("a.dot-ai.example.com", "example.com"), "two labels below");
    assert.ok(!isCoveredByWildcard("dot-ai.notexample.com", "example.com"), "a suffix that is not a label boundary");
    assert.ok(!isCoveredByWildcard("example.org", "example.com"));
  });

  it("is derived from a hostname by dropping its first label, down to two labels", () => {
    assert.strictEqual(parentDomain("dot-ai.example.com"), "example.com");
    assert.strictEqual(parentDomain("a.b.example.com"), "b.example.com");
    assert.strictEqual(parentDomain("example.com"), "example.com");
    assert.ok(isCoveredByWildcard("dot-ai.dev.example.com", parentDomain("dot-ai.dev.example.com")));
  });
});

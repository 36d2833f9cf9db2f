/**
 * The rules behind the configuration, tested directly: booleans, enumerations, labels and JSON values
 * in config strings, the chart floor and the route timeouts as the configuration applies them, and
 * the shape of a problem list. Durations, names and the wildcard domain are in validators.test.ts;
 * config.test.ts runs whole stacks. This file pins each rule's edges and exact wording.
 */
import * as assert from "assert";

import { formatProblems } from "../stacks/config";
import { removeCommand, setCommand } from "../stacks/config/reader";
import { checkLabel, isOneOf, isStringMap, parseBoolean, parseJson, parseStringMap } from "../stacks/validators";
import { devSpec, parseSpec as parse, prodSpec } from "./harness";

describe("booleans and enumerations in config strings", () => {
  it("read only 'true' and 'false' as booleans, as Pulumi writes them", () => {
    assert.strictEqual(parseBoolean("true"), true);
    assert.strictEqual(parseBoolean("false"), false);
    for (const text of ["True", "FALSE", "yes", "1", "0", ""]) assert.strictEqual(parseBoolean(text), undefined, text);
  });

  it("accept a value of an enumeration only as spelled", () => {
    const routes = ["All", "Same", "Selector"] as const;
    assert.ok(isOneOf(routes, "Selector"));
    for (const value of ["selector", "", " All", 1, undefined]) assert.ok(!isOneOf(routes, value), String(value));
  });
});

describe("namespace labels (namespaceLabels)", () => {
  it("accept a label key with an optional DNS-subdomain prefix, and a value of at most 63 characters", () => {
    assert.strictEqual(checkLabel("shared-gateway-access", "true"), undefined);
    assert.strictEqual(checkLabel("dot-ai-gateway/shared-gateway", "cluster-gateway"), undefined);
    assert.strictEqual(checkLabel("Team_A.x", ""), undefined, "an empty value is a value");
    assert.strictEqual(checkLabel("k".repeat(63), "v".repeat(63)), undefined);
    for (const key of ["k".repeat(64), "-k", "example.com/", "Example.com/x", "a/b/c"]) {
      assert.match(checkLabel(key, "v") ?? "", /is not a Kubernetes label key/, key);
    }
    for (const value of ["v".repeat(64), "-bad", "bad.", "a b"]) {
      assert.match(checkLabel("k", value) ?? "", /the value of 'k' is not a Kubernetes label value/, value);
    }
  });
});

describe("JSON values in config strings", () => {
  it("read an object of string values, and nothing else, as a map", () => {
    assert.deepStrictEqual(parseStringMap('{"example.com/key":"v","x":""}'), { "example.com/key": "v", x: "" });
    assert.deepStrictEqual(parseStringMap("{}"), {});
    for (const text of ["[]", '["a"]', '{"a":1}', '{"a":null}', "null", '"s"', "not json", ""]) {
      assert.strictEqual(parseStringMap(text), undefined, text);
    }
  });

  it("tell a map of strings from other JSON values, as platform outputs arrive", () => {
    assert.ok(isStringMap({ "dot-ai-gateway/shared-gateway": "cluster-gateway" }));
    for (const value of [[], ["a"], null, "x", { a: 1 }, undefined])
      assert.ok(!isStringMap(value), JSON.stringify(value));
  });

  it("read a list as written by pulumi config set --path, and a syntax error as no value", () => {
    assert.deepStrictEqual(parseJson('["team-a","team-b"]'), ["team-a", "team-b"]);
    assert.strictEqual(parseJson("[team-a]"), undefined);
  });
});

describe("the chart floor as the configuration applies it", () => {
  const remote = (chartVersion: string) =>
    prodSpec({ chart: "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai", chartVersion });

  it("accepts 0.170.0, the first chart with the Gateway API values, and refuses anything older on chartVersion", () => {
    assert.ok(parse(remote("0.170.0")).ok);
    for (const version of ["0.169.9", "0.170.0-rc.1"]) {
      const result = parse(remote(version));
      assert.ok(!result.ok, version);
      assert.deepStrictEqual(result.problems, [
        {
          key: "chartVersion",
          problem: `version ${version} is older than 0.170.0: those charts ignore gateway.name/gateway.namespace/gateway.create without an error and render no HTTPRoute at all, so dot-ai would be unreachable`,
          fix: "pulumi config set dot-ai-gateway:chartVersion 2.2.2",
        },
      ]);
    }
  });

  it("names chart, not chartVersion, for a local chart below the floor, with both ways out", () => {
    const result = parse(prodSpec({ chart: "test/fixtures/old-chart" }));
    assert.ok(!result.ok);
    assert.deepStrictEqual(
      result.problems.map((p) => [p.key, p.fix]),
      [
        [
          "chart",
          "pulumi config set dot-ai-gateway:chart <chart of version 2.2.2>, or pulumi config rm dot-ai-gateway:chart and pulumi config set dot-ai-gateway:chartVersion 2.2.2",
        ],
      ],
    );
  });

  it("deploys a version newer than verified, with a warning that names it", () => {
    const result = parse(remote("2.2.3"));
    assert.ok(result.ok);
    assert.ok(result.warnings.some((w) => /^dot-ai-gateway:chartVersion: chart 2\.2\.3 is newer than 2\.2\.2/.test(w)));
  });
});

describe("the route timeouts as the configuration applies them", () => {
  const timeouts = (requestTimeout: string, backendRequestTimeout: string) =>
    parse(devSpec({ requestTimeout, backendRequestTimeout }));

  it("let the backend's share equal the whole, or anything when the request timeout is 0 (off)", () => {
    assert.ok(timeouts("1h", "1h").ok);
    assert.ok(timeouts("0s", "1h").ok);
  });

  it("refuse a backend timeout longer than the request's, with the request's as the fix", () => {
    const result = timeouts("10m", "1h");
    assert.ok(!result.ok);
    assert.deepStrictEqual(result.problems, [
      {
        key: "backendRequestTimeout",
        problem: "'1h' is longer than requestTimeout '10m'; Gateway API requires backendRequest <= request",
        fix: "pulumi config set dot-ai-gateway:backendRequestTimeout 10m",
      },
    ]);
  });

  it("warn, without failing, below five minutes, where MCP's SSE streams would be cut", () => {
    const short = timeouts("4m", "4m");
    assert.ok(short.ok && short.warnings.some((w) => /requestTimeout is 4m: MCP sessions stream over SSE/.test(w)));
    const enough = timeouts("5m", "5m");
    assert.ok(enough.ok && !enough.warnings.some((w) => /requestTimeout/.test(w)));
  });
});

describe("a list of problems", () => {
  it("is numbered, one problem per key with its fix on the next line, counted in the heading", () => {
    const message = formatProblems([
      { key: "hostname", problem: "is not set", fix: setCommand("hostname", "dot-ai.example.com") },
      { key: "anthropicApiKey", problem: "is stored in plaintext", fix: setCommand("anthropicApiKey", "<key>", true) },
    ]);
    assert.strictEqual(
      message,
      [
        "Invalid configuration (2 problems); nothing was deployed:",
        "  1. dot-ai-gateway:hostname is not set.",
        "     Fix: pulumi config set dot-ai-gateway:hostname dot-ai.example.com",
        "  2. dot-ai-gateway:anthropicApiKey is stored in plaintext.",
        "     Fix: pulumi config set --secret dot-ai-gateway:anthropicApiKey <key>",
      ].join("\n"),
    );
  });

  it("says '1 problem' for one, under the heading it is given", () => {
    const message = formatProblems([{ key: "mode", problem: "is x", fix: removeCommand("mode") }], "Not this");
    assert.match(message, /^Not this \(1 problem\); nothing was deployed:\n {2}1\. dot-ai-gateway:mode is x\.\n/);
    assert.match(message, /Fix: pulumi config rm dot-ai-gateway:mode$/);
  });
});

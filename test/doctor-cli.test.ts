/** doctor's command line, output, reading of the Pulumi CLI's JSON, and the opt-in probes (loopback only). */
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";

import { judgeDns, judgeMcp, probesSkipped, runProbes } from "../doctor/checks/probe";
import { defaultProjectDir, parseArgs } from "../doctor/cli";
import type { Expectations } from "../doctor/expectations";
import { failed, toJson, toText } from "../doctor/report";
import { fail, pass, skip } from "../doctor/result";
import { configInput, outputsRead, sha256 } from "../doctor/stack";
import { createStandinServer } from "./standin/server";

const REPORT = {
  stack: "prod",
  about: "reference pattern, https://dot-ai.example.com",
  checks: [
    pass("crds", "Gateway API CRDs", "4 CRDs present"),
    fail("route", "HTTPRoute", "dot-ai/dot-ai: NotAllowedByListeners", "label missing", [
      "kubectl label namespace dot-ai a=b",
    ]),
    skip("probe-mcp", "MCP", "off by default"),
  ],
};

describe("doctor command line", () => {
  it("takes the stack as an argument or --stack, the project directory, --json and --probe", () => {
    assert.deepStrictEqual(parseArgs(["prod", "--json"], "/p"), { cwd: "/p", json: true, probe: false, stack: "prod" });
    assert.deepStrictEqual(parseArgs(["--stack", "dev", "-C", "/x", "--probe"], "/p"), {
      cwd: "/x",
      json: false,
      probe: true,
      stack: "dev",
    });
    assert.deepStrictEqual(parseArgs([], "/p"), { cwd: "/p", json: false, probe: false });
    assert.deepStrictEqual(parseArgs(["prod", "--probe-address", "203.0.113.7"], "/p"), {
      cwd: "/p",
      json: false,
      probe: true,
      probeAddress: "203.0.113.7",
      stack: "prod",
    });
    for (const bad of [["--probe-address"], ["--probe-address", "gw.example.com"]]) {
      assert.match((parseArgs(bad, "/p") as { error: string }).error, /--probe-address needs the Gateway's IP address/);
    }
    assert.deepStrictEqual(parseArgs(["--bogus"], "/p"), { error: "unknown option --bogus" });
    assert.deepStrictEqual(parseArgs(["a", "b"], "/p"), { error: "one stack only (got a and b)" });
    assert.deepStrictEqual(parseArgs(["--cwd"], "/p"), { error: "--cwd needs a value" });
    assert.strictEqual(parseArgs(["-h"], "/p"), "help");
  });

  it("reads the project the sandbox's env.sh names, so the command the sandbox prints works as typed", () => {
    assert.strictEqual(defaultProjectDir({ DOT_AI_GATEWAY_PROJECT: "/sandbox/project" }, "/repo"), "/sandbox/project");
    assert.strictEqual(defaultProjectDir({}, "/repo"), "/repo");
    const sandbox = fs.readFileSync(path.join(__dirname, "..", "scripts", "sandbox.sh"), "utf8");
    assert.match(sandbox, /export DOT_AI_GATEWAY_PROJECT=%q\\n' "\$project"/, "the sandbox's env.sh sets it");
  });

  it("prints a checklist with cause and fix under each failure, coloured only when asked", () => {
    const text = toText(REPORT, false);
    assert.ok(!text.includes("\x1b["), "no escape codes off a terminal");
    assert.match(text, /^ {2}PASS {2}Gateway API CRDs: 4 CRDs present$/m);
    assert.match(
      text,
      /FAIL {2}HTTPRoute: dot-ai\/dot-ai: NotAllowedByListeners\n {8}cause: label missing\n {8}fix: {3}kubectl/,
    );
    assert.match(text, /SKIP {2}MCP: skipped: off by default/);
    assert.match(text, /1 passed, 1 failed, 1 skipped$/);
    assert.ok(toText(REPORT, true).includes("\x1b[31mFAIL\x1b[0m"), "red FAIL on a terminal");
  });

  it("--json: one document with ok false when a check failed; the exit code follows the same rule", () => {
    const doc = JSON.parse(toJson(REPORT));
    assert.strictEqual(doc.ok, false);
    assert.deepStrictEqual(doc.counts, { pass: 1, fail: 1, skip: 1 });
    assert.strictEqual(doc.checks[1].fix[0], "kubectl label namespace dot-ai a=b");
    assert.ok(failed(REPORT));
    assert.ok(!failed({ ...REPORT, checks: [REPORT.checks[0], REPORT.checks[2]] }));
  });

  it("reads `pulumi config --json`: secret values are absent and stand in as set", () => {
    const { values, secretKeys } = configInput({
      "dot-ai-gateway:hostname": { value: "dot-ai.example.com", secret: false },
      "dot-ai-gateway:anthropicApiKey": { secret: true },
      "kubernetes:context": { value: "kind", secret: false },
    });
    assert.deepStrictEqual(values, { hostname: "dot-ai.example.com", anthropicApiKey: "[secret]" });
    assert.deepStrictEqual([...secretKeys], ["anthropicApiKey"]);
  });

  it("keeps only a digest of the authToken output", () => {
    const out = outputsRead({
      mode: "reference",
      gatewayName: "cluster-gateway",
      gatewayNamespace: "gateway-system",
      url: "https://dot-ai.example.com",
      authToken: "secret-token",
      mcpConfig: "{...secret-token...}",
    });
    assert.strictEqual(out.authTokenDigest, sha256("secret-token"));
    assert.ok(!JSON.stringify(out).includes("secret-token"));
  });
});

describe("doctor --probe", () => {
  it("is off by default, saying so", () => {
    assert.deepStrictEqual(
      probesSkipped().map((r) => [r.id, r.status]),
      [
        ["probe-dns", "skip"],
        ["probe-mcp", "skip"],
      ],
    );
  });

  it("compares the hostname's addresses with the Gateway's", () => {
    assert.strictEqual(judgeDns("a.example.com", ["10.0.0.1"], ["10.0.0.1"]).status, "pass");
    const elsewhere = judgeDns("a.example.com", ["10.0.0.9"], ["10.0.0.1"]);
    assert.match(elsewhere.cause!, /points elsewhere/);
    assert.match(
      judgeDns("a.example.com", new Error("ENOTFOUND"), ["10.0.0.1"]).fix![0],
      /A\/AAAA record a\.example\.com -> 10\.0\.0\.1/,
    );
  });

  it("maps the MCP answer to a cause", () => {
    const initialized =
      'event: message\ndata: {"result":{"serverInfo":{"name":"dot-ai","version":"2.2.2"}},"jsonrpc":"2.0","id":1}\n\n';
    const ok = judgeMcp(
      "https://a",
      { status: 200, contentType: "text/event-stream", sessionId: "s", body: initialized },
      true,
    );
    assert.strictEqual(ok.status, "pass", JSON.stringify(ok));
    assert.match(ok.summary, /server dot-ai 2\.2\.2, session opened and ended/);
    const refused = judgeMcp("https://a", { status: 401, contentType: "application/json", body: "{}" });
    assert.match(refused.cause!, /refused the token/);
    const redirected = judgeMcp("http://a", { status: 301, contentType: "", location: "https://a/", body: "" });
    assert.match(redirected.cause!, /redirected to https:\/\/a\//);
    assert.match(judgeMcp("https://a", new Error("self-signed certificate")).cause!, /not trusted/);
  });

  describe("against the dot-ai stand-in (test/standin), which answers as dot-ai does, on 127.0.0.1", () => {
    let server: http.Server;
    let url = "";
    const seen: (string | undefined)[] = [];
    const hosts: (string | undefined)[] = [];
    const methods: string[] = [];
    before(async () => {
      server = createStandinServer({ name: "dot-ai/dot-ai", token: () => "right" });
      server.prependListener("request", (req: http.IncomingMessage) => {
        seen.push(req.headers.authorization);
        hosts.push(req.headers.host);
        methods.push(req.method ?? "");
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    const x = () => ({ hostname: "localhost", url, app: {} }) as unknown as Expectations;
    const snapshot = { readAt: 0, crds: [], gateway: null };
    const lookup = { lookup: async () => ["127.0.0.1"] };

    it("opens an MCP session with the bearer token, reads the streamed answer's first event only, and ends the session", async () => {
      const { realProbeIo } = await import("../doctor/checks/probe");
      methods.length = 0;
      const [, mcp] = await runProbes(x(), snapshot, "right", { ...realProbeIo, ...lookup }, 2000);
      assert.strictEqual(mcp.status, "pass", JSON.stringify(mcp));
      assert.match(mcp.summary, /200 event stream, server dot-ai-standin .*session opened and ended/);
      assert.strictEqual(seen.at(-1), "Bearer right");
      assert.deepStrictEqual(methods, ["POST", "DELETE"]);
    });

    it("--probe-address: through a given Gateway address, the hostname pinned (Host header kept, DNS not consulted)", async () => {
      const { realProbeIo } = await import("../doctor/checks/probe");
      const port = new URL(url).port;
      const pinned = {
        hostname: "dot-ai.not-in-dns.example",
        url: `http://dot-ai.not-in-dns.example:${port}`,
        app: {},
      };
      let looked = false;
      const io = { ...realProbeIo, lookup: async () => ((looked = true), []) };
      const [dns, mcp] = await runProbes(pinned as unknown as Expectations, snapshot, "right", io, 2000, "127.0.0.1");
      assert.strictEqual(mcp.status, "pass", JSON.stringify(mcp));
      assert.strictEqual(hosts.at(-1), `dot-ai.not-in-dns.example:${port}`);
      assert.strictEqual(dns.status, "skip");
      assert.match(dns.summary, /pinned to 127\.0\.0\.1/);
      assert.ok(!looked, "DNS not consulted");
    });

    it("reports a refused token", async () => {
      const { realProbeIo } = await import("../doctor/checks/probe");
      const [, mcp] = await runProbes(x(), snapshot, "wrong", { ...realProbeIo, ...lookup }, 2000);
      assert.strictEqual(mcp.status, "fail");
      assert.match(mcp.summary, /: 401/);
    });
  });
});

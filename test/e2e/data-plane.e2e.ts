/**
 * Real traffic through a real Gateway data plane: Traefik (GatewayClass `traefik`) programs the
 * Gateways the program makes and carries the bytes; the official MCP client connects over TLS,
 * verified against the sandbox issuer's CA for the stack's hostname, with exactly what
 * `pulumi stack output mcpConfig` gives. Behind the route, the dot-ai **stand-in** (test/standin)
 * answers on dot-ai's Service in place of the pods, which on the fake nodes run nothing: these
 * tests prove the path (Gateway, listeners, TLS, routes, redirect, Service), not dot-ai.
 *
 * Every connection goes to the address the Gateway reports (127.0.0.1 here, checked loopback), as a
 * client whose DNS points at the Gateway would connect; every request loop is bounded, and each
 * says how many requests it sent and how many failed. Runs on a control plane with traefik
 * (test/e2e/run.sh's data-plane lane; `npm run test:e2e:data-plane` alone).
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

import type { Agent } from "undici";

import { APP_NS, CHART_VERSIONS, KEYS } from "./dot-ai";
import {
  McpEndpoint,
  PollReport,
  connectMcp,
  mcpRoundTrip,
  parseMcpConfig,
  pinnedAgent,
  pollWhile,
  send,
} from "./gateway-client";
import { GATEWAY, HOST, adoptingStack, digest, quickStartInstall, removeAll, servedToken } from "./migration-steps";
import {
  GATEWAY_CLASS,
  KubeObject,
  chartPackage,
  createStack,
  eventually,
  exists,
  kubectlJson,
  pulumi,
  pulumiAsync,
  pulumiUp,
  run,
  setConfig,
  startPulumi,
  timeSuite,
} from "./tools";

const CA_FILE = process.env.LOCAL_CA_FILE ?? "";
const [OLD_CHART, NEW_CHART] = [CHART_VERSIONS[0], CHART_VERSIONS[CHART_VERSIONS.length - 1]];

/** Figures for the run's log and the closing note: what each data-plane step sent and saw. */
const figures: string[] = [];
function record(what: string, line: string): void {
  figures.push(`${what}: ${line}`);
  console.log(`      [data plane] ${what}: ${line}`);
}
const describePoll = (r: PollReport) =>
  `${r.requests} requests (${r.rounds} MCP round trips) over ${r.seconds} s, ${r.failures.length} failed`;

function gatewayAddress(name: string, namespace: string): string {
  const gw = kubectlJson(["get", "gateway", name, "-n", namespace]);
  const address = gw.status?.addresses?.[0]?.value as string | undefined;
  assert.ok(address, `Gateway ${namespace}/${name} reports no address: ${JSON.stringify(gw.status)}`);
  return address;
}

/** What a user of `stack` gets: its `.mcp.json` (mcpConfig output) and a way to its Gateway. */
function clientOf(
  stack: string,
  gateway: { name: string; namespace: string },
): { endpoint: McpEndpoint; agent: Agent } {
  const json = pulumi(stack, ["stack", "output", "mcpConfig", "--show-secrets"]).stdout;
  return {
    endpoint: parseMcpConfig(json),
    agent: pinnedAgent({
      address: gatewayAddress(gateway.name, gateway.namespace),
      ca: fs.readFileSync(CA_FILE, "utf8"),
    }),
  };
}

/**
 * Until the Gateway serves `endpoint`, at most 30 s (a route `up` did not wait for, e.g. an app
 * stack's, may take a moment to be programmed); fails naming the last answer.
 */
async function served(agent: Agent, endpoint: McpEndpoint): Promise<void> {
  let last: string | undefined = "";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    last = (await mcpRoundTrip(agent, endpoint).catch((e: Error) => ({ problem: e.message }))).problem;
    if (last === undefined) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${endpoint.url} not served through the Gateway within 30 s: ${last}`);
}

/** `pulumi destroy`, then until its namespaces are gone (the next stack may reuse them). */
async function destroyStack(stack: string, namespaces: string[]): Promise<void> {
  pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
  for (const ns of namespaces) await eventually(`namespace ${ns} to be deleted`, () => !exists(["namespace", ns]));
}

type TlsError = Error & { code?: string; cause?: { code?: string } };
/** The code of a TLS verification error, as Node.js names it, wherever undici put it. */
const tlsCode = (e: TlsError) => String(e.code ?? e.cause?.code ?? e.message);

/** The checks every deployed endpoint gets: the official client, the token, TLS, and port 80. */
function endpointChecks(what: string, stack: string, gateway: { name: string; namespace: string }): void {
  let endpoint: McpEndpoint;
  let agent: Agent;
  before(async () => {
    ({ endpoint, agent } = clientOf(stack, gateway));
    assert.match(endpoint.url, /^https:\/\//, "mcpConfig names an https URL");
    await served(agent, endpoint);
  });
  after(() => agent?.close());

  it(`lets the official MCP client connect with mcpConfig as given (URL, header), TLS verified for the hostname: initialize and tools/list (${what})`, async () => {
    const client = await connectMcp(endpoint, agent);
    try {
      assert.strictEqual(client.getServerVersion()?.name, "dot-ai-standin");
      const tools = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes("standin-info"), tools.join(", "));
      const info = await client.callTool({ name: "standin-info", arguments: {} });
      assert.match(JSON.stringify(info.content), /stand-in for the dot-ai pods of/);
    } finally {
      await client.close();
    }
    record(what, "official MCP client with mcpConfig through the Gateway: initialize, tools/list, tools/call OK");
  });

  it("refuses TLS to a client that does not trust the issuer, and to a name the certificate does not cover", async () => {
    const host = new URL(endpoint.url).hostname;
    const untrusting = pinnedAgent({ address: gatewayAddress(gateway.name, gateway.namespace) });
    try {
      await assert.rejects(send(untrusting, endpoint.url), (e: TlsError) => {
        assert.match(tlsCode(e), /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
        return true;
      });
    } finally {
      await untrusting.close();
    }
    const otherName = `https://not-${host}.invalid/`;
    await assert.rejects(send(agent, otherName), (e: TlsError) => {
      // Traefik answers an unknown name with its own default certificate, which nothing trusts.
      assert.match(tlsCode(e), /ERR_TLS_CERT_ALTNAME_INVALID|SELF_SIGNED|UNABLE_TO_VERIFY/);
      return true;
    });
  });

  it("answers 401 without the token, or with another, through the Gateway", async () => {
    const noToken = Object.fromEntries(Object.entries(endpoint.headers).filter(([k]) => k !== "Authorization"));
    for (const headers of [noToken, { ...noToken, Authorization: "Bearer not-the-token" }]) {
      const { problem } = await mcpRoundTrip(agent, { url: endpoint.url, headers });
      assert.match(problem ?? "", /^initialize: 401 /, JSON.stringify(Object.keys(headers)));
    }
  });

  it("answers plain HTTP on port 80 with 301 to https, path and query kept, and serves no MCP there", async () => {
    const url = new URL(endpoint.url);
    const plain = `http://${url.host}/some/path?first=1&second=two`;
    const get = await send(agent, plain);
    assert.strictEqual(get.status, 301, get.body);
    assert.strictEqual(get.headers.location, `https://${url.host}/some/path?first=1&second=two`);
    const post = await send(agent, `http://${url.host}/`, {
      method: "POST",
      headers: { ...endpoint.headers, "Content-Type": "application/json" },
      body: "{}",
    });
    assert.strictEqual(post.status, 301, "the MCP endpoint is not served in clear");
  });
}

describe("data plane: dev stack (creation pattern) through Traefik", () => {
  timeSuite("data plane: dev");
  const STACK = "dev";
  before(() => {
    setConfig(STACK, { chart: chartPackage(NEW_CHART) });
    pulumiUp(STACK);
  });
  after(() => destroyStack(STACK, [APP_NS, `${APP_NS}-https-redirect`]));

  it(`has the chart's Gateway judged by Traefik (class ${GATEWAY_CLASS}), its address a loopback one`, () => {
    const gw = kubectlJson(["get", "gateway", "dot-ai-http", "-n", APP_NS]);
    assert.strictEqual(gw.spec.gatewayClassName, GATEWAY_CLASS);
    assert.match(gatewayAddress("dot-ai-http", APP_NS), /^127\./);
  });

  endpointChecks("dev", STACK, { name: "dot-ai-http", namespace: APP_NS });
});

describe("data plane: prod stack (reference pattern) through Traefik, and a chart upgrade under traffic", () => {
  timeSuite("data plane: prod");
  const STACK = "prod";
  before(() => {
    setConfig(STACK, { chart: chartPackage(OLD_CHART) });
    pulumiUp(STACK);
  });
  after(() => destroyStack(STACK, [APP_NS, GATEWAY.namespace]));

  endpointChecks(`prod, chart ${OLD_CHART}`, STACK, GATEWAY);

  it(`upgrades the chart ${OLD_CHART} → ${NEW_CHART} while a client polls through the Gateway: no failed request`, async () => {
    const { endpoint, agent } = clientOf(STACK, GATEWAY);
    setConfig(STACK, { chart: chartPackage(NEW_CHART) });
    const running = startPulumi(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
    const report = await pollWhile(agent, endpoint, running.done);
    await agent.close();
    const res = await running.done;
    assert.strictEqual(res.status, 0, (res.stdout + res.stderr).slice(-4000));
    record(`prod chart upgrade ${OLD_CHART} → ${NEW_CHART}`, describePoll(report));
    assert.ok(report.rounds >= 10, `only ${report.rounds} round trips: the up was too short to say anything`);
    assert.deepStrictEqual(report.failures, []);
    const release = kubectlJson(["get", "secret", "-n", APP_NS, "-l", "owner=helm,name=dot-ai,status=deployed"]);
    assert.match(release.items[0].metadata.name, /^sh\.helm\.release\.v1\.dot-ai\.v\d+$/);
    assert.match(
      kubectlJson(["get", "deployment", "dot-ai", "-n", APP_NS]).metadata.labels["helm.sh/chart"],
      /2\.2\.2/,
    );
  });
});

describe("data plane: migration from Ingress through Traefik, chart 2.2.2 installed by the quick start", () => {
  timeSuite("data plane: migration");
  const STACK = "migrate-traffic";
  const token = crypto.randomBytes(24).toString("hex");
  const endpoint: McpEndpoint = { url: `https://${HOST}`, headers: { Authorization: `Bearer ${token}` } };
  let agent: Agent;

  before(async () => {
    await removeAll(STACK);
    quickStartInstall(NEW_CHART, token);
    adoptingStack(STACK, NEW_CHART);
  });
  after(async () => {
    await agent?.close();
    await removeAll(STACK);
  });

  it("phase both: once `up` returns, the quick start's token is served through the Gateway (bridge route)", async () => {
    const res = await pulumiAsync(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
    assert.strictEqual(res.status, 0);
    agent = pinnedAgent({
      address: gatewayAddress(GATEWAY.name, GATEWAY.namespace),
      ca: fs.readFileSync(CA_FILE, "utf8"),
    });
    // The up waited for the bridge route to be Accepted; Traefik applies a new configuration up to
    // its providersThrottleDuration (2 s) after it writes that status. Clients still reach the
    // Ingress then: DNS moves to the Gateway only after this phase.
    const returned = Date.now();
    await served(agent, endpoint);
    record(
      "migration, up to phase both",
      `the bridge route served ${((Date.now() - returned) / 1000).toFixed(1)} s after up returned`,
    );
    assert.strictEqual(digest(servedToken()), digest(token));
  });

  for (const phase of ["gateway", "both"] as const) {
    it(`phase ${phase === "gateway" ? "gateway: the chart's route replaces the bridge" : "both again (rollback)"} while a client polls through the Gateway: no failed request`, async () => {
      pulumi(STACK, ["config", "set", "dot-ai-gateway:migrationPhase", phase]);
      const running = startPulumi(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
      const report = await pollWhile(agent, endpoint, running.done);
      const res = await running.done;
      assert.strictEqual(res.status, 0, (res.stdout + res.stderr).slice(-4000));
      record(`migration, up to phase ${phase}`, describePoll(report));
      assert.ok(report.rounds >= 5, `only ${report.rounds} round trips`);
      assert.deepStrictEqual(report.failures, []);
      const routes = kubectlJson<{ items: KubeObject[] }>(["get", "httproute", "-n", "dot-ai"]).items.map(
        (r) => r.metadata.name,
      );
      assert.deepStrictEqual(routes, [phase === "gateway" ? "dot-ai" : "dot-ai-bridge"]);
    });
  }
});

describe("data plane: one platform, two teams' app stacks reached through the one Gateway", () => {
  timeSuite("data plane: multi-team");
  const PLATFORM = "platform-traffic";
  const PLATFORM_REF = `organization/dot-ai-gateway/${PLATFORM}`;
  const TEAMS = ["a", "b"].map((t) => ({
    stack: `traffic-${t}`,
    namespace: `traffic-${t}`,
    hostname: `traffic-${t}.example.com`,
  }));
  const up = (stack: string) => pulumiAsync(stack, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
  const destroy = (stack: string) =>
    pulumiAsync(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"], { allowFailure: true });

  before(async () => {
    run(path.join(__dirname, "..", "..", "toolchain", "cluster.sh"), ["issuer", "letsencrypt-prod"]);
    createStack(PLATFORM, {
      role: "platform",
      domain: "example.com",
      gatewayClassName: GATEWAY_CLASS,
      gatewayApiCrdsFile: process.env.GATEWAY_API_CRDS_FILE ?? "",
      clusterIssuer: "letsencrypt-prod",
      protectGateway: "false",
    });
    for (const team of TEAMS) {
      createStack(
        team.stack,
        {
          role: "app",
          platformStack: PLATFORM_REF,
          hostname: team.hostname,
          namespace: team.namespace,
          releaseName: `dot-ai-${team.namespace}`,
          chart: chartPackage(NEW_CHART),
        },
        { anthropicApiKey: KEYS[0], openaiApiKey: KEYS[1] },
      );
    }
    await up(PLATFORM);
    await up(TEAMS[0].stack);
  });
  after(async () => {
    await Promise.all(TEAMS.map((t) => destroy(t.stack)));
    await destroy(PLATFORM);
    for (const s of [PLATFORM, ...TEAMS.map((t) => t.stack)])
      pulumi(s, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
    for (const ns of TEAMS.map((t) => t.namespace)) {
      await eventually(`namespace ${ns} deleted`, () => !exists(["namespace", ns]), 120_000);
    }
  });

  it("holds one team's SSE stream open ≥ 90 s, events arriving across a 70 s silence, while a second team's app stack is deployed on the same Gateway; then both teams are served, each only with its own token", async () => {
    const [a, b] = TEAMS;
    const clientA = clientOf(a.stack, GATEWAY);
    await served(clientA.agent, clientA.endpoint);
    const client = await connectMcp(clientA.endpoint, clientA.agent);
    const start = Date.now();
    const arrivals: number[] = [];
    // 5 s, 5 s, a 70 s silence (longer than Traefik's 60 s readTimeout), 5 s, 5 s: 90 s in all.
    const delays = [5, 5, 70, 5, 5];
    const stream = client.callTool({ name: "standin-stream", arguments: { delaysSeconds: delays } }, undefined, {
      onprogress: () => arrivals.push(Date.now() - start),
      resetTimeoutOnProgress: true,
      timeout: 120_000,
      maxTotalTimeout: 200_000,
    });
    try {
      const deployB = up(b.stack);
      const [result] = await Promise.all([stream, deployB]);
      const seconds = (Date.now() - start) / 1000;
      assert.match(JSON.stringify(result.content), /5 events sent/);
      assert.strictEqual(arrivals.length, delays.length, `events at ${arrivals.join(", ")} ms`);
      assert.ok(seconds >= 90, `stream lasted ${seconds} s`);
      const gaps = arrivals.map((t, i) => t - (arrivals[i - 1] ?? 0));
      assert.ok(Math.max(...gaps) >= 65_000, `longest silence ${Math.max(...gaps)} ms`);
      record(
        "SSE stream (team a) while team b deployed",
        `1 tools/call held ${seconds.toFixed(0)} s on one response stream, ${arrivals.length} events, longest silence ${(Math.max(...gaps) / 1000).toFixed(0)} s, 0 failed`,
      );
    } finally {
      await client.close();
    }
    const clientB = clientOf(b.stack, GATEWAY);
    await served(clientB.agent, clientB.endpoint);
    assert.strictEqual((await mcpRoundTrip(clientA.agent, clientA.endpoint)).problem, undefined);
    const crossed = await mcpRoundTrip(clientB.agent, { url: clientB.endpoint.url, headers: clientA.endpoint.headers });
    assert.match(crossed.problem ?? "", /^initialize: 401 /, "team a's token opens nothing of team b");
    const addresses = new Set([a, b].map(() => gatewayAddress(GATEWAY.name, GATEWAY.namespace)));
    assert.strictEqual(addresses.size, 1, "one Gateway, one address");
    await Promise.all([clientA.agent.close(), clientB.agent.close()]);
  });

  after(() => {
    if (figures.length > 0)
      console.log(`      [data plane] summary:\n${figures.map((f) => `        ${f}`).join("\n")}`);
  });
});

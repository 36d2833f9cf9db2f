/**
 * The dot-ai stand-in of the sandbox's data plane (test/standin): it must answer the way dot-ai's
 * pod does wherever a client or probe could tell, or the data-plane tests would prove a path that
 * real dot-ai would not serve. Here on 127.0.0.1 with no Gateway in between, driven by the official
 * MCP client through the same client code the end-to-end tests use.
 */
import * as assert from "assert";
import type { AddressInfo } from "net";
import type * as http from "http";
import type { V1Deployment, V1Secret, V1Service } from "@kubernetes/client-node";

import { Agent } from "undici";
import { McpEndpoint, connectMcp, mcpRoundTrip, pinnedAgent, send } from "./e2e/gateway-client";
import { STANDIN_NAME, createStandinServer } from "./standin/server";
import { isLoopback, targets } from "./standin/targets";

const TOKEN = "a-token-of-the-stand-in-test";

describe("the dot-ai stand-in answers as dot-ai's pod does", () => {
  let server: http.Server;
  let agent: Agent;
  let url = "";
  let token: string | undefined = TOKEN;
  const endpoint = (headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }): McpEndpoint => ({
    url,
    headers,
  });

  before(async () => {
    server = createStandinServer({ name: "dot-ai/dot-ai", token: () => token });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://dot-ai.test.example:${(server.address() as AddressInfo).port}`;
    agent = pinnedAgent({ address: "127.0.0.1" });
  });
  afterEach(() => (token = TOKEN));
  after(async () => {
    await agent.close();
    server.closeAllConnections();
    server.close();
  });

  it("lets the official MCP client initialize and list its tools, and says it is a stand-in", async () => {
    const client = await connectMcp(endpoint(), agent);
    try {
      assert.strictEqual(client.getServerVersion()?.name, STANDIN_NAME);
      const tools = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepStrictEqual(tools, ["standin-info", "standin-stream"]);
      const info = await client.callTool({ name: "standin-info", arguments: {} });
      assert.match(JSON.stringify(info.content), /stand-in for the dot-ai pods of dot-ai\/dot-ai; not dot-ai/);
    } finally {
      await client.close();
    }
  });

  it("streams progress events on a tool call's response stream until it answers", async () => {
    const client = await connectMcp(endpoint(), agent);
    try {
      const events: number[] = [];
      const result = await client.callTool(
        { name: "standin-stream", arguments: { delaysSeconds: [0.1, 0.1, 0.1] } },
        undefined,
        {
          onprogress: (p) => events.push(p.progress),
        },
      );
      assert.deepStrictEqual(events, [1, 2, 3]);
      assert.match(JSON.stringify(result.content), /3 events sent/);
    } finally {
      await client.close();
    }
  });

  it("refuses a request without the token, or with another, with 401 and WWW-Authenticate", async () => {
    const refused: Record<string, string>[] = [{}, { Authorization: "Bearer not-the-token" }, { Authorization: TOKEN }];
    for (const headers of refused) {
      const answer = await send(agent, url, { method: "POST", headers, body: "{}" });
      assert.strictEqual(answer.status, 401, JSON.stringify(headers));
      assert.match(String(answer.headers["www-authenticate"]), /^Bearer/);
      assert.match(answer.body, /"UNAUTHORIZED"/);
    }
  });

  it("refuses everything when its pods read no token (dot-ai 2.x does)", async () => {
    token = undefined;
    const answer = await send(agent, url, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: "{}",
    });
    assert.strictEqual(answer.status, 401);
    assert.match(answer.body, /Authentication is not configured/);
  });

  it("answers /healthz without a token, and a request of no session with 404 SESSION_NOT_FOUND", async () => {
    assert.strictEqual((await send(agent, `${url}/healthz`)).status, 200);
    const answer = await send(agent, `${url}/sse`, {
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: "text/event-stream" },
    });
    assert.strictEqual(answer.status, 404);
    assert.match(answer.body, /SESSION_NOT_FOUND/);
  });

  it("completes the poll's round trip (initialize, then DELETE of its session), and reports a refusal", async () => {
    assert.deepStrictEqual(await mcpRoundTrip(agent, endpoint()), { requests: 2, problem: undefined });
    const refused = await mcpRoundTrip(agent, endpoint({}));
    assert.strictEqual(refused.requests, 1);
    assert.match(refused.problem ?? "", /^initialize: 401/);
  });
});

describe("the stand-in serves where Kubernetes would route to a Ready dot-ai pod", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const deployment = (ready: number, key = "auth-token"): V1Deployment => ({
    metadata: { name: "dot-ai", namespace: "team-a" },
    spec: {
      selector: { matchLabels: { app: "dot-ai" } },
      template: {
        metadata: { labels: { app: "dot-ai", extra: "x" } },
        spec: {
          containers: [
            {
              name: "mcp",
              env: [{ name: "DOT_AI_AUTH_TOKEN", valueFrom: { secretKeyRef: { name: "dot-ai-secrets", key } } }],
            },
          ],
        },
      },
    },
    status: { readyReplicas: ready },
  });
  const service = (name: string, selector: Record<string, string>, ip = "127.96.4.5"): V1Service => ({
    metadata: { name, namespace: "team-a" },
    spec: { clusterIP: ip, selector, ports: [{ port: 3456 }] },
  });
  const secret: V1Secret = {
    metadata: { name: "dot-ai-secrets", namespace: "team-a" },
    data: { "auth-token": b64("t0ken") },
  };

  it("at each selecting Service's ClusterIP and port, with the token from the Secret key the env names", () => {
    const found = targets({
      deployments: [deployment(1)],
      services: [service("dot-ai", { app: "dot-ai" }), service("other", { app: "qdrant" }, "127.96.9.9")],
      secrets: [secret],
    });
    assert.deepStrictEqual(found, [
      {
        name: "team-a/dot-ai",
        address: "127.96.4.5",
        port: 3456,
        token: "t0ken",
        tokenSource: "Secret team-a/dot-ai-secrets key auth-token",
      },
    ]);
  });

  it("nowhere while no replica is Ready; with no token when the Secret lacks the key", () => {
    const view = { services: [service("dot-ai", { app: "dot-ai" })], secrets: [secret] };
    assert.deepStrictEqual(targets({ ...view, deployments: [deployment(0)] }), []);
    assert.strictEqual(targets({ ...view, deployments: [deployment(1, "missing")] })[0].token, undefined);
  });

  it("listens on loopback addresses only", () => {
    assert.ok(isLoopback("127.96.0.10"));
    for (const a of ["10.96.0.10", "0.0.0.0", "::1", "127.96.0"]) assert.ok(!isLoopback(a), a);
  });
});

/**
 * A client's way through a Gateway's data plane on this machine: every connection goes to one
 * pinned loopback address (the Gateway's), while the URL keeps its hostname for the Host header
 * and the TLS server name, and TLS is verified against the given CA, as a client whose DNS points
 * at the Gateway and who trusts its issuer would connect. Nothing here can send a request anywhere
 * but 127.0.0.0/8: the address is checked before any connection.
 *
 * Used by the data-plane end-to-end tests and by the sandbox's `mcp` check (scripts/mcp-check.ts),
 * with the official MCP TypeScript SDK's client.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { Agent, fetch as undiciFetch, request as undiciRequest } from "undici";

export interface GatewayPath {
  /** The Gateway's address: a loopback IPv4 address. */
  readonly address: string;
  /** PEM of the CA the Gateway's certificate must chain to (HTTPS only). */
  readonly ca?: string;
}

/** What `pulumi stack output mcpConfig` holds for dot-ai: its URL and headers. */
export interface McpEndpoint {
  readonly url: string;
  readonly headers: Record<string, string>;
}

export function assertLoopback(address: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address))
    throw new Error(`refusing to send traffic to ${address}: only 127.0.0.0/8 is allowed here`);
}

/** The `dot-ai` server of an `.mcp.json` (the stack's mcpConfig output). */
export function parseMcpConfig(json: string): McpEndpoint {
  const server = (
    JSON.parse(json) as { mcpServers?: Record<string, { url?: string; headers?: Record<string, string> }> }
  ).mcpServers?.["dot-ai"];
  if (!server?.url) throw new Error("the MCP configuration has no mcpServers.dot-ai.url");
  return { url: server.url, headers: server.headers ?? {} };
}

/** An undici dispatcher whose every connection goes to `path.address`, TLS verified against `path.ca`. */
export function pinnedAgent(path: GatewayPath): Agent {
  assertLoopback(path.address);
  return new Agent({
    connect: {
      ...(path.ca ? { ca: path.ca } : {}),
      // Answers every name lookup with the Gateway's address (the TLS name stays the URL's host).
      lookup: ((_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) =>
        options?.all ? done(null, [{ address: path.address, family: 4 }]) : done(null, path.address, 4)) as never,
    },
    // Bounded: a request that gets no answer fails instead of hanging a test.
    connectTimeout: 10_000,
  });
}

/** A fetch for the MCP SDK's transport that goes through `agent`. */
function fetchThrough(agent: Agent): typeof fetch {
  return ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof fetch;
}

/** The official MCP client, connected (initialize done) to `endpoint` through the Gateway. */
export async function connectMcp(endpoint: McpEndpoint, agent: Agent): Promise<Client> {
  const client = new Client({ name: "dot-ai-gateway-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(endpoint.url), {
    requestInit: { headers: endpoint.headers },
    fetch: fetchThrough(agent),
    // One attempt: a test counts failures, it does not hide them behind retries.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1000,
      maxReconnectionDelay: 1000,
      reconnectionDelayGrowFactor: 1,
    },
  });
  await client.connect(transport);
  return client;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request through `agent`, redirects not followed, the body read in full (at most 64 KiB kept). */
export async function send(
  agent: Agent,
  url: string,
  options: {
    method?: "GET" | "POST" | "DELETE";
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  } = {},
): Promise<Answer> {
  const timeout = options.timeoutMs ?? 10_000;
  const res = await undiciRequest(url, {
    dispatcher: agent,
    method: options.method ?? "GET",
    headers: options.headers,
    body: options.body,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const body = (await res.body.text()).slice(0, 65536);
  return { status: res.statusCode, headers: res.headers, body };
}

/**
 * One complete MCP exchange as a new client makes it, in two requests: `initialize` (answered as
 * an event stream, with a session id) and the DELETE that ends the session. `problem` is undefined
 * when both succeeded; `requests` says how many were sent (the DELETE only after a good initialize).
 */
export async function mcpRoundTrip(
  agent: Agent,
  endpoint: McpEndpoint,
): Promise<{ requests: number; problem: string | undefined }> {
  const headers = {
    ...endpoint.headers,
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
  };
  const init = await send(agent, endpoint.url, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "dot-ai-gateway-e2e-poll", version: "1.0.0" },
      },
    }),
  });
  const session = init.headers["mcp-session-id"];
  if (init.status !== 200 || typeof session !== "string" || !init.body.includes('"serverInfo"'))
    return { requests: 1, problem: `initialize: ${init.status} ${init.body.slice(0, 200)}` };
  const end = await send(agent, endpoint.url, {
    method: "DELETE",
    headers: { ...endpoint.headers, "Mcp-Session-Id": session, "Mcp-Protocol-Version": LATEST_PROTOCOL_VERSION },
  });
  return {
    requests: 2,
    problem: end.status === 200 ? undefined : `DELETE session: ${end.status} ${end.body.slice(0, 200)}`,
  };
}

export interface PollReport {
  requests: number;
  rounds: number;
  failures: string[];
  seconds: number;
}

/**
 * MCP round trips (mcpRoundTrip) one after another, `everyMs` apart, until `until` settles, at
 * most `maxRounds`: what a client using dot-ai sees while something changes underneath it. A
 * request that fails to connect or gets no answer in 10 s is a failure like a bad status.
 */
export async function pollWhile(
  agent: Agent,
  endpoint: McpEndpoint,
  until: Promise<unknown>,
  options: { everyMs?: number; maxRounds?: number } = {},
): Promise<PollReport> {
  const { everyMs = 200, maxRounds = 5000 } = options;
  const start = Date.now();
  let settled = false;
  void until.then(
    () => (settled = true),
    () => (settled = true),
  );
  const report: PollReport = { requests: 0, rounds: 0, failures: [], seconds: 0 };
  while (!settled && report.rounds < maxRounds) {
    report.rounds++;
    const { requests, problem } = await mcpRoundTrip(agent, endpoint).catch((e: Error) => ({
      requests: 1,
      problem: `${e.message}${e.cause ? ` (${String(e.cause)})` : ""}`,
    }));
    report.requests += requests;
    if (problem) report.failures.push(`${new Date().toISOString()} ${problem}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  report.seconds = Math.round((Date.now() - start) / 1000);
  return report;
}

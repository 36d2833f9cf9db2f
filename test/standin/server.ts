/**
 * The dot-ai **stand-in**'s HTTP front door: what one dot-ai pod answers on port 3456, as far as a
 * Gateway in front of it can tell. Pods on the sandbox's fake nodes run nothing, so this process
 * answers in their place, on the dot-ai Service's ClusterIP (main.ts). It proves the path from a
 * client through a real Gateway data plane to the Service; it does not prove dot-ai: its tools are
 * its own (`standin-*`), it talks to no AI provider, no Qdrant and no Kubernetes API.
 *
 * What it copies from dot-ai 2.2.2 (src/interfaces/mcp.ts, src/interfaces/oauth/middleware.ts), so
 * that clients, probes and docs written against it hold against the real server:
 * - `GET /healthz` answers 200 without authentication (the kubelet's probe);
 * - every other request needs `Authorization: Bearer <token>` with the token the pod reads from
 *   its Secret (`DOT_AI_AUTH_TOKEN`); without it 401, a JSON error and `WWW-Authenticate: Bearer`;
 * - MCP over streamable HTTP on any path, stateful: an `initialize` POST opens a session (its id
 *   in `Mcp-Session-Id`) and is answered as an event stream (dot-ai sets enableJsonResponse false);
 *   other requests name their session, else 404 SESSION_NOT_FOUND; a GET with the session opens
 *   the server's event stream; a DELETE ends the session.
 */
import { randomUUID, timingSafeEqual } from "crypto";
import * as http from "http";

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** The name it gives in `initialize`: no client may take it for dot-ai. */
export const STANDIN_NAME = "dot-ai-standin";
export const STANDIN_VERSION = "0.0.0-standin";
/** Bounds of `standin-stream`: a client cannot hold it (or this process) busy for long. */
export const STREAM_LIMITS = { events: 100, totalSeconds: 600 };
/** Sessions kept at most, and how long an idle one lives (dot-ai keeps them in memory too). */
const MAX_SESSIONS = 200;
const SESSION_IDLE_MS = 10 * 60_000;

/** What one served instance needs to know about itself. */
export interface Instance {
  /** `<namespace>/<Service>`, for messages. */
  readonly name: string;
  /** The bearer token its pods read now; undefined when their Secret has none (refuses all). */
  token(): string | undefined;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  lastActivity: number;
}

/** An HTTP server (not yet listening) that answers as dot-ai's pod would, for `instance`. */
export function createStandinServer(instance: Instance): http.Server {
  const sessions = new Map<string, Session>();
  const server = http.createServer((req, res) => {
    handle(instance, sessions, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, "INTERNAL_ERROR", `stand-in: ${String(error)}`);
      else res.end();
    });
  });
  const gc = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) if (now - s.lastActivity > SESSION_IDLE_MS) void s.transport.close();
  }, 60_000);
  gc.unref();
  server.on("close", () => {
    clearInterval(gc);
    for (const s of sessions.values()) void s.transport.close();
  });
  return server;
}

async function handle(
  instance: Instance,
  sessions: Map<string, Session>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  res.setHeader("Access-Control-Allow-Origin", "*");
  if (req.method === "OPTIONS") {
    res.writeHead(204).end();
    return;
  }
  if (req.url === "/healthz" && req.method === "GET") {
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ status: "ok" }));
    return;
  }
  const refusal = checkBearer(req, instance.token());
  if (refusal) {
    sendError(res, 401, "UNAUTHORIZED", refusal, { "WWW-Authenticate": 'Bearer realm="dot-ai"' });
    return;
  }
  const body = req.method === "POST" ? await readJson(req) : undefined;
  if (body instanceof Error) {
    sendError(res, 400, "BAD_REQUEST", body.message);
    return;
  }
  const isInit =
    req.method === "POST" &&
    (Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body));
  if (isInit) {
    if (sessions.size >= MAX_SESSIONS) {
      sendError(res, 503, "TOO_MANY_SESSIONS", `stand-in: ${MAX_SESSIONS} sessions open; end some (DELETE)`);
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: false,
      onsessioninitialized: (id) => void sessions.set(id, { transport, lastActivity: Date.now() }),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await mcpServer(instance).connect(transport);
    await transport.handleRequest(req, res, body);
    return;
  }
  const id = req.headers["mcp-session-id"];
  const session = typeof id === "string" ? sessions.get(id) : undefined;
  if (!session) {
    sendError(res, 404, "SESSION_NOT_FOUND", "Session not found");
    return;
  }
  session.lastActivity = Date.now();
  await session.transport.handleRequest(req, res, body);
}

/** Why the request is refused, or undefined when its bearer token is the instance's. */
function checkBearer(req: http.IncomingMessage, token: string | undefined): string | undefined {
  if (!token) return "Authentication is not configured. Set DOT_AI_AUTH_TOKEN in your deployment.";
  const header = req.headers.authorization;
  if (!header) return "Authentication required. Provide Authorization: Bearer <token> header.";
  const [scheme, provided = ""] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== "bearer" || !provided) return "Invalid authorization format. Expected: Bearer <token>";
  const [a, b] = [Buffer.from(token), Buffer.from(provided)];
  return a.length === b.length && timingSafeEqual(a, b) ? undefined : "Invalid authentication token.";
}

function sendError(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { "Content-Type": "application/json", ...headers })
    .end(JSON.stringify({ success: false, error: { code, message } }));
}

/** The parsed JSON body (undefined when empty), or the reason it is not JSON; at most 1 MiB. */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) return new Error("stand-in: request body over 1 MiB");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return new Error(`request body is not JSON: ${(error as Error).message}`);
  }
}

/** One MCP server per session, as dot-ai makes one (the SDK's server takes one transport). */
function mcpServer(instance: Instance): McpServer {
  const server = new McpServer({ name: STANDIN_NAME, version: STANDIN_VERSION });
  server.registerTool(
    "standin-info",
    {
      description: "Says what answered: the dot-ai stand-in of the local sandbox, not dot-ai.",
      inputSchema: {},
    },
    async () => ({
      content: [
        {
          type: "text",
          text: `${STANDIN_NAME}: the sandbox's stand-in for the dot-ai pods of ${instance.name}; not dot-ai`,
        },
      ],
    }),
  );
  server.registerTool(
    "standin-stream",
    {
      description:
        "Holds the response stream open: waits each of delaysSeconds in turn, sending a progress " +
        "notification after each wait (the caller must ask for progress), then answers.",
      inputSchema: {
        delaysSeconds: z
          .array(z.number().min(0).max(STREAM_LIMITS.totalSeconds))
          .min(1)
          .max(STREAM_LIMITS.events)
          .refine((d) => d.reduce((a, b) => a + b, 0) <= STREAM_LIMITS.totalSeconds, {
            message: `at most ${STREAM_LIMITS.totalSeconds} s in all`,
          }),
      },
    },
    async ({ delaysSeconds }, extra) => {
      const progressToken = extra._meta?.progressToken;
      if (progressToken === undefined) {
        return { isError: true, content: [{ type: "text", text: "standin-stream needs a progressToken" }] };
      }
      for (const [i, seconds] of delaysSeconds.entries()) {
        await abortableSleep(seconds * 1000, extra.signal);
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress: i + 1, total: delaysSeconds.length, message: `event ${i + 1}` },
        });
      }
      return { content: [{ type: "text", text: `${delaysSeconds.length} events sent` }] };
    },
  );
  return server;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("cancelled"));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new Error("cancelled"));
      },
      { once: true },
    );
  });
}

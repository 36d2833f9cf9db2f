/**
 * Optional checks from outside the cluster (`--probe`): does the hostname resolve to the Gateway,
 * and does `<url>` answer an authenticated MCP client: an `initialize` POST with the bearer token,
 * answered `200` as an event stream (dot-ai streams its answers) with a session id; the probe then
 * ends that session (DELETE). dot-ai serves MCP on every path and opens event streams only for
 * sessions, so this is the first exchange every client makes. Off by default: they only make sense
 * where the Gateway is reachable, and they send traffic.
 */
import { MCP_INITIALIZE } from "../../components/chart-contract";
import { CheckResult, fail, pass, skip } from "../result";
import type { Expectations } from "../expectations";
import type { Snapshot } from "../snapshot";

const DNS_ID = "probe-dns";
const DNS_TITLE = "DNS: hostname resolves to the Gateway";
const MCP_ID = "probe-mcp";
const MCP_TITLE = "MCP: authenticated initialize at the url";
const OFF = "off by default; run with --probe where the Gateway is reachable";
/** The MCP protocol revision the probe's initialize asks for, which its DELETE then names. */
const PROTOCOL_VERSION = (JSON.parse(MCP_INITIALIZE) as { params: { protocolVersion: string } }).params.protocolVersion;
/** Kept of an answer's body: enough for the first event of a stream, which is then left unread. */
const BODY_LIMIT = 4096;

export interface ProbeAnswer {
  status: number;
  contentType: string;
  /** The `Mcp-Session-Id` header, when the server opened a session. */
  sessionId?: string;
  /** The `Location` header of a redirect. */
  location?: string;
  /** The start of the body: up to the end of its first event, at most 4 KiB. */
  body: string;
}

/** How the probes reach the outside world; tests pass their own. */
export interface ProbeIo {
  lookup(hostname: string): Promise<string[]>;
  /**
   * One request, redirects not followed. With `address`, the connection goes to that address while
   * the URL's host stays the Host header and the TLS server name.
   */
  request(
    method: "POST" | "DELETE",
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    address?: string,
  ): Promise<ProbeAnswer>;
}

export const realProbeIo: ProbeIo = {
  async lookup(hostname) {
    const dns = await import("dns");
    const found = await dns.promises.lookup(hostname, { all: true });
    return found.map((a) => a.address);
  },
  request: nodeRequest,
};

/**
 * A request with Node's own http/https (only they let a request pin its address); the CA store is
 * Node's, NODE_EXTRA_CA_CERTS included. An event stream is read up to its first event, never to
 * its end.
 */
async function nodeRequest(
  method: "POST" | "DELETE",
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  address?: string,
): Promise<ProbeAnswer> {
  const target = new URL(url);
  const transport = target.protocol === "https:" ? await import("https") : await import("http");
  const { isIP } = await import("net");
  const family = address === undefined ? 0 : isIP(address) || 4;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method,
        headers: body === undefined ? headers : { ...headers, "Content-Length": Buffer.byteLength(body) },
        timeout: timeoutMs,
        // Pinned: every name this request looks up is answered with the given address.
        ...(address === undefined
          ? {}
          : {
              lookup: ((_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) =>
                options.all ? done(null, [{ address, family }]) : done(null, address, family)) as never,
            }),
      },
      (res) => {
        let text = "";
        const finish = () => {
          const header = (name: string) => {
            const v = res.headers[name];
            return Array.isArray(v) ? v[0] : v;
          };
          resolve({
            status: res.statusCode ?? 0,
            contentType: header("content-type") ?? "",
            sessionId: header("mcp-session-id"),
            location: header("location"),
            body: text.slice(0, BODY_LIMIT),
          });
          res.destroy();
        };
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          if (text.length >= BODY_LIMIT || text.includes("\n\n")) finish();
        });
        res.on("end", finish);
        res.on("error", finish);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

export function probesSkipped(): CheckResult[] {
  return [skip(DNS_ID, DNS_TITLE, OFF), skip(MCP_ID, MCP_TITLE, OFF)];
}

/** The DNS verdict: the hostname's addresses against the Gateway's. */
export function judgeDns(hostname: string, resolved: string[] | Error, gatewayAddresses: string[]): CheckResult {
  if (resolved instanceof Error) {
    return fail(
      DNS_ID,
      DNS_TITLE,
      `${hostname} does not resolve (${resolved.message})`,
      "no DNS record for the hostname: external-dns has not published it, or the record was never created",
      [
        `create an A/AAAA record ${hostname} -> ${gatewayAddresses.join(", ") || "<the Gateway's address>"}, or check external-dns's logs`,
      ],
    );
  }
  const named = gatewayAddresses.filter((a) => !/^[0-9.:a-fA-F]+$/.test(a));
  if (gatewayAddresses.length === 0) return skip(DNS_ID, DNS_TITLE, "the Gateway has no address to compare with");
  if (resolved.some((a) => gatewayAddresses.includes(a)) || named.length > 0)
    return pass(DNS_ID, DNS_TITLE, `${hostname} -> ${resolved.join(", ")} (Gateway: ${gatewayAddresses.join(", ")})`);
  return fail(
    DNS_ID,
    DNS_TITLE,
    `${hostname} -> ${resolved.join(", ")}, but the Gateway's address is ${gatewayAddresses.join(", ")}`,
    "the DNS record points elsewhere (an old address, another load balancer)",
    [`update the record ${hostname} to ${gatewayAddresses.join(", ")}`],
  );
}

/** The server an `initialize` answer names (`result.serverInfo`), from JSON or the first event's data. */
function serverInfo(body: string): string | undefined {
  const json = body.includes("data:")
    ? body
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("")
    : body;
  try {
    const info = (JSON.parse(json) as { result?: { serverInfo?: { name?: string; version?: string } } }).result
      ?.serverInfo;
    return info?.name ? `${info.name} ${info.version ?? ""}`.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The verdict on the answer (or the error) of the authenticated `initialize` POST to `url`. */
export function judgeMcp(url: string, answer: ProbeAnswer | Error, sessionEnded?: boolean): CheckResult {
  const curl = `curl -v -N ${url} -H "Authorization: Bearer $(pulumi stack output authToken --show-secrets)" -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" -d '${MCP_INITIALIZE}'`;
  if (answer instanceof Error) {
    const cause = (answer as Error & { cause?: Error }).cause?.message ?? answer.message;
    return fail(
      MCP_ID,
      MCP_TITLE,
      `POST ${url} (initialize) failed: ${cause}`,
      /certificate|self.signed|CERT/i.test(cause)
        ? "the certificate is not trusted from here (a staging or private issuer? NODE_EXTRA_CA_CERTS adds a CA)"
        : "the Gateway is not reachable from here, or did not answer in time",
      [curl],
    );
  }
  const server = serverInfo(answer.body);
  if (answer.status === 200 && server) {
    const streamed = answer.contentType.includes("text/event-stream");
    return pass(
      MCP_ID,
      MCP_TITLE,
      `POST ${url} (initialize): 200 ${streamed ? "event stream" : answer.contentType}, server ${server}${answer.sessionId ? `, session ${sessionEnded ? "opened and ended" : "opened (its end was not confirmed)"}` : ""}`,
    );
  }
  const causes: Record<number, string> = {
    301: `redirected to ${answer.location ?? "?"}: the url's scheme is one the Gateway only redirects`,
    302: `redirected to ${answer.location ?? "?"}`,
    308: `redirected to ${answer.location ?? "?"}: the url's scheme is one the Gateway only redirects`,
    401: "dot-ai refused the token: the Secret's token and the authToken output differ, or the pods run with an older token",
    404: "no route matches: the Gateway does not route this host and path to dot-ai",
    500: "the Gateway has no healthy backend for the route (Service without endpoints, or a backend it cannot resolve)",
    502: "the Gateway could not reach dot-ai's Service (no ready pod behind it?)",
    503: "the backend is unavailable: no ready dot-ai pod",
  };
  return fail(
    MCP_ID,
    MCP_TITLE,
    `POST ${url} (initialize): ${answer.status} ${answer.contentType}`,
    causes[answer.status] ??
      (answer.status === 200 ? "the answer is not an MCP initialize result" : "not an MCP answer"),
    ["run doctor without --probe for the in-cluster checks, then: " + curl],
  );
}

export async function runProbes(
  x: Expectations,
  s: Snapshot,
  token: string | undefined,
  io: ProbeIo = realProbeIo,
  timeoutMs = 5000,
  /** `--probe-address`: the Gateway address to probe through, the hostname pinned (DNS not consulted). */
  pinnedAddress?: string,
): Promise<CheckResult[]> {
  if (!x.app || !x.url) return [skip(DNS_ID, DNS_TITLE, "no hostname"), skip(MCP_ID, MCP_TITLE, "no url")];
  const addresses = (s.gateway?.status?.addresses ?? []).map((a) => a.value);
  // Pinned, the probe checks the new path before anybody touches DNS (docs/migration.md).
  const dnsResult =
    pinnedAddress !== undefined
      ? skip(DNS_ID, DNS_TITLE, `${x.hostname} pinned to ${pinnedAddress} (--probe-address): DNS not consulted`)
      : judgeDns(
          x.hostname,
          await io.lookup(x.hostname).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
          addresses,
        );
  if (!token) return [dnsResult, skip(MCP_ID, MCP_TITLE, "the stack has no authToken output")];
  const auth = { Authorization: `Bearer ${token}` };
  const answer = await io
    .request(
      "POST",
      x.url,
      { ...auth, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      MCP_INITIALIZE,
      timeoutMs,
      pinnedAddress,
    )
    .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  // The session the probe opened is ended, as a client leaving would: dot-ai keeps them in memory.
  let ended: boolean | undefined;
  if (!(answer instanceof Error) && answer.sessionId) {
    ended = await io
      .request(
        "DELETE",
        x.url,
        { ...auth, "Mcp-Session-Id": answer.sessionId, "Mcp-Protocol-Version": PROTOCOL_VERSION },
        undefined,
        timeoutMs,
        pinnedAddress,
      )
      .then((r) => r.status === 200 || r.status === 204)
      .catch(() => false);
  }
  return [dnsResult, judgeMcp(x.url, answer, ended)];
}

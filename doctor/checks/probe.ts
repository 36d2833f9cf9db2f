/**
 * Optional checks from outside the cluster (`--probe`): does the hostname resolve to the Gateway,
 * and does `<url>/sse` answer an authenticated client with an event stream. Off by default: they
 * only make sense where the Gateway is reachable, and they send traffic.
 */
import { SSE_PATH } from "../../components/chart-contract";
import type { Expectations } from "../expectations";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const DNS_ID = "probe-dns";
const DNS_TITLE = "DNS: hostname resolves to the Gateway";
const SSE_ID = "probe-sse";
const SSE_TITLE = "SSE: authenticated request to /sse";
const OFF = "off by default; run with --probe where the Gateway is reachable";

/** How the probes reach the outside world; tests pass their own. */
export interface ProbeIo {
  lookup(hostname: string): Promise<string[]>;
  /**
   * Status and content type of a GET, the body left unread. With `address`, the connection goes
   * to that address while the URL's host stays the Host header and the TLS server name.
   */
  get(
    url: string,
    headers: Record<string, string>,
    timeoutMs: number,
    address?: string,
  ): Promise<{ status: number; contentType: string }>;
}

export const realProbeIo: ProbeIo = {
  async lookup(hostname) {
    const dns = await import("dns");
    const found = await dns.promises.lookup(hostname, { all: true });
    return found.map((a) => a.address);
  },
  async get(url, headers, timeoutMs, address) {
    if (address !== undefined) return pinnedGet(url, headers, timeoutMs, address);
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    const result = { status: res.status, contentType: res.headers.get("content-type") ?? "" };
    await res.body?.cancel();
    return result;
  },
};

/** A GET to `address` for `url`'s host (Node's own http/https: only they let a request pin its address). */
async function pinnedGet(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  address: string,
): Promise<{ status: number; contentType: string }> {
  const target = new URL(url);
  const transport = target.protocol === "https:" ? await import("https") : await import("http");
  const { isIP } = await import("net");
  const family = isIP(address) || 4;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        headers,
        timeout: timeoutMs,
        // Every name this request looks up is answered with the pinned address.
        lookup: ((_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) =>
          options.all ? done(null, [{ address, family }]) : done(null, address, family)) as never,
      },
      (res) => {
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? "") });
        res.destroy();
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

export function probesSkipped(): CheckResult[] {
  return [skip(DNS_ID, DNS_TITLE, OFF), skip(SSE_ID, SSE_TITLE, OFF)];
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

/** The SSE verdict from the response (or the error) of `GET <url>/sse`. */
export function judgeSse(url: string, answer: { status: number; contentType: string } | Error): CheckResult {
  const target = `${url}${SSE_PATH}`;
  if (answer instanceof Error) {
    const cause = (answer as Error & { cause?: Error }).cause?.message ?? answer.message;
    return fail(
      SSE_ID,
      SSE_TITLE,
      `GET ${target} failed: ${cause}`,
      /certificate|self.signed|CERT/i.test(cause)
        ? "the certificate is not trusted from here (a staging or private issuer?)"
        : "the Gateway is not reachable from here, or did not answer in time",
      ["curl -v -N " + target + ' -H "Authorization: Bearer $(pulumi stack output authToken --show-secrets)"'],
    );
  }
  if (answer.status === 200 && answer.contentType.includes("text/event-stream"))
    return pass(SSE_ID, SSE_TITLE, `GET ${target}: 200, ${answer.contentType}`);
  const causes: Record<number, string> = {
    401: "dot-ai refused the token: the Secret's token and the authToken output differ, or the pods run with an older token",
    404: "no route matches: the Gateway does not route this host and path to dot-ai",
    500: "the Gateway has no healthy backend for the route (Service without endpoints, or a backend it cannot resolve)",
    503: "the backend is unavailable: no ready dot-ai pod",
  };
  return fail(
    SSE_ID,
    SSE_TITLE,
    `GET ${target}: ${answer.status} ${answer.contentType}`,
    causes[answer.status] ?? "the answer is not an event stream",
    ["run doctor without --probe for the in-cluster checks, then: curl -v -N " + target],
  );
}

export async function runProbes(
  x: Expectations,
  s: Snapshot,
  token: string | undefined,
  io: ProbeIo = realProbeIo,
  timeoutMs = 5000,
  /** `--probe-address`: the Gateway address to probe through, the hostname pinned to it (DNS not consulted). */
  pinnedAddress?: string,
): Promise<CheckResult[]> {
  if (!x.app || !x.url) return [skip(DNS_ID, DNS_TITLE, "no hostname"), skip(SSE_ID, SSE_TITLE, "no url")];
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
  if (!token) return [dnsResult, skip(SSE_ID, SSE_TITLE, "the stack has no authToken output")];
  const answer = await io
    .get(
      `${x.url}${SSE_PATH}`,
      { Accept: "text/event-stream", Authorization: `Bearer ${token}` },
      timeoutMs,
      pinnedAddress,
    )
    .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  return [dnsResult, judgeSse(x.url, answer)];
}

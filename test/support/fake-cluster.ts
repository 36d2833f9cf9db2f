/**
 * A stand-in Kubernetes API server on 127.0.0.1, and a kubeconfig that points at it, for the tests
 * of the reads made with @kubernetes/client-node (cluster/crd-precheck.ts, storage-check.ts,
 * release-check.ts). It answers what the test's `answer` returns, as JSON, and a Kubernetes
 * NotFound Status for anything else, and records every request.
 */
import * as http from "http";
import { AddressInfo } from "net";

/** The bearer token the kubeconfig's user sends. */
export const FAKE_TOKEN = "test-token";

export interface FakeRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  accept: string | undefined;
  authorization: string | undefined;
  /** The request body (a POST's object), parsed as JSON; undefined when there is none. */
  body: unknown;
}

/** An answer to a request: a body (status 200 unless given), or undefined for a 404. */
export type FakeAnswer = { status?: number; body: unknown } | undefined;

export interface FakeCluster {
  /** Every request received, oldest first; tests may empty it. */
  requests: FakeRequest[];
  /**
   * A kubeconfig with two contexts: `here`, whose cluster `local` is this server, and `elsewhere`,
   * whose cluster `nowhere` refuses connections (127.0.0.1:9). `currentContext` picks the one a
   * client uses when the stack names none; a test of context selection starts from `elsewhere`.
   */
  kubeconfig(currentContext?: "here" | "elsewhere"): string;
  close(): Promise<void>;
}

export async function startFakeCluster(answer: (req: FakeRequest) => FakeAnswer): Promise<FakeCluster> {
  const requests: FakeRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const request: FakeRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      accept: req.headers.accept,
      authorization: req.headers.authorization,
      body: text === "" ? undefined : JSON.parse(text),
    };
    requests.push(request);
    const found = answer(request) ?? {
      status: 404,
      body: { apiVersion: "v1", kind: "Status", status: "Failure", reason: "NotFound", code: 404 },
    };
    res.writeHead(found.status ?? 200, { "content-type": "application/json" });
    res.end(JSON.stringify(found.body));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as AddressInfo).port;
  return {
    requests,
    kubeconfig: (currentContext = "here") => `apiVersion: v1
kind: Config
current-context: ${currentContext}
clusters:
- name: local
  cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true }
- name: nowhere
  cluster: { server: "http://127.0.0.1:9", insecure-skip-tls-verify: true }
contexts:
- name: here
  context: { cluster: local, user: tester }
- name: elsewhere
  context: { cluster: nowhere, user: tester }
users:
- name: tester
  user: { token: ${FAKE_TOKEN} }
`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * `doctor` against the sandbox with its real controllers (Envoy Gateway, cert-manager): it passes
 * on a healthy prod and dev stack (chart 2.2.2), and each injected fault is reported as the one
 * failing check, with its cause and fix; the stack is repaired (with doctor's own fix where it is
 * a quick command) and passes again before the next fault. The stacks have namespaces of their own
 * so they never meet the stacks of stacks.e2e.ts. --probe is never used: the Gateway's address on
 * the fake node is made up and must not be contacted.
 */
import * as assert from "assert";
import * as path from "path";

import { CHART_VERSIONS } from "./dot-ai";
import {
  GATEWAY_CLASS,
  KubeObject,
  PROJECT,
  chartPackage,
  eventually,
  kubectl,
  kubectlJson,
  pulumi,
  pulumiAsync,
  run,
  setConfig,
  timeSuite,
} from "./tools";

const CHART = CHART_VERSIONS[CHART_VERSIONS.length - 1];
const BIN = path.join(__dirname, "..", "..", "doctor", "bin.cjs");

interface Check {
  id: string;
  status: "pass" | "fail" | "skip";
  summary: string;
  cause?: string;
  fix?: string[];
}
interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

const PROD = {
  stack: "doctor-prod",
  ns: "doctor-prod",
  gatewayNs: "doctor-gateway",
  settings: {
    mode: "reference",
    hostname: "dot-ai.example.com",
    domain: "example.com",
    allowedRoutes: "Selector",
    clusterIssuer: "letsencrypt-prod",
    namespace: "doctor-prod",
    gatewayNamespace: "doctor-gateway",
  },
};
const DEV = {
  stack: "doctor-dev",
  ns: "doctor-dev",
  // Its own release name too: the chart's ClusterRole is named after the release.
  settings: {
    mode: "creation",
    hostname: "doctor.dev.example.com",
    namespace: "doctor-dev",
    releaseName: "dot-ai-dev",
  },
};

/** A fresh stack set up as toolchain/env.sh sets up local stacks, with its own namespaces. */
function freshStack(stack: string, settings: Record<string, string>): void {
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  pulumi(stack, ["stack", "init"]);
  setConfig(stack, {
    chart: chartPackage(CHART),
    gatewayApiCrdsFile: process.env.GATEWAY_API_CRDS_FILE ?? "",
    gatewayClassName: GATEWAY_CLASS,
    aiProvider: "anthropic",
    ...settings,
  });
  setConfig(
    stack,
    { anthropicApiKey: "local-anthropic-key-not-real", openaiApiKey: "local-openai-key-not-real" },
    true,
  );
}

const up = async (stack: string, extra: string[] = []) => {
  await pulumiAsync(stack, ["up", "--yes", "--skip-preview", "--suppress-progress", ...extra]);
};

/** doctor as a user runs it (the bin entry), its JSON report and exit code. */
function doctor(stack: string): { report: DoctorReport; status: number } {
  const res = run("node", [BIN, stack, "--cwd", PROJECT, "--json"], { allowFailure: true });
  let report: DoctorReport;
  try {
    report = JSON.parse(res.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${res.status}): ${res.stdout}\n${res.stderr}`);
  }
  assert.strictEqual(res.status, report.ok ? 0 : 1, "exit code 0 exactly when nothing failed");
  return { report, status: res.status };
}

const failures = (r: DoctorReport) => r.checks.filter((c) => c.status === "fail");
const describeFailures = (r: DoctorReport | undefined) => JSON.stringify(r ? failures(r) : "no report", null, 2);

/** Waits until doctor passes: controllers finish their work a little after `pulumi up` returns. */
async function passes(stack: string, timeoutMs = 90_000): Promise<DoctorReport> {
  let last: DoctorReport | undefined;
  await eventually(
    `doctor to pass on ${stack}`,
    () => {
      last = doctor(stack).report;
      return last.ok;
    },
    timeoutMs,
    () => describeFailures(last),
  );
  return last!;
}

/** Waits until doctor fails exactly `id` with a cause matching `cause`, and returns that check. */
async function failsOnly(stack: string, id: string, cause: RegExp, timeoutMs = 60_000): Promise<Check> {
  let last: DoctorReport | undefined;
  await eventually(
    `doctor to fail only ${id} (${cause}) on ${stack}`,
    () => {
      last = doctor(stack).report;
      const failed = failures(last);
      return failed.length === 1 && failed[0].id === id && cause.test(failed[0].cause ?? "");
    },
    timeoutMs,
    () => describeFailures(last),
  );
  return failures(last!)[0];
}

/** Runs a kubectl command doctor printed as a fix (its comment stripped), as a user would paste it. */
function runFix(fix: string): void {
  const command = fix
    .replace(/\s+#.*$/, "")
    .trim()
    .split(/\s+/);
  assert.strictEqual(command[0], "kubectl", `a kubectl fix: ${fix}`);
  kubectl(command.slice(1));
}

/** An object as it can be created again: without what the API server assigned. */
function recreatable(obj: KubeObject): KubeObject {
  const { uid, resourceVersion, creationTimestamp, generation, managedFields, ...metadata } = obj.metadata;
  void [uid, resourceVersion, creationTimestamp, generation, managedFields];
  delete metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"];
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata, spec: obj.spec };
}

describe("doctor on the sandbox, real controllers, chart " + CHART, () => {
  timeSuite("doctor");

  before(async () => {
    freshStack(PROD.stack, PROD.settings);
    freshStack(DEV.stack, DEV.settings);
    // Side by side: most of either update is waiting for controllers. The second starts once the
    // first has installed the Gateway API bundle's release, which the two share (docs/troubleshooting.md:
    // two first installs at the very same moment race for it).
    const prod = up(PROD.stack);
    prod.catch(() => undefined); // reported by the Promise.all below, not as an unhandled rejection
    await eventually(
      "the bundle's release deployed by the first stack",
      () =>
        kubectl([
          "get",
          "secret",
          "-n",
          "kube-system",
          "-l",
          "owner=helm,name=dot-ai-gateway-crds,status=deployed",
          "-o",
          "name",
        ]).stdout.trim() !== "",
    );
    await Promise.all([prod, up(DEV.stack)]);
  });

  after(async () => {
    // Both destroys run even if one fails; a failure is then reported, not swallowed.
    const results = await Promise.allSettled(
      [PROD.stack, DEV.stack].map((stack) =>
        pulumiAsync(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) throw new Error(failed.map((r) => String(r.reason)).join("\n"));
  });

  it("passes on a healthy dev stack, the external-dns annotation included", async () => {
    const report = await passes(DEV.stack);
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    assert.strictEqual(status["external-dns"], "pass");
    assert.strictEqual(status.tls, "pass", "dev serves HTTPS from its own Certificate");
    assert.strictEqual(status["probe-mcp"], "skip", "--probe is off by default");
  });

  it("passes on a healthy prod stack: Gateway, route, Certificate, Deployments, Qdrant, Secret and token", async () => {
    const report = await passes(PROD.stack);
    const passed = report.checks.filter((c) => c.status === "pass").map((c) => c.id);
    assert.deepStrictEqual(passed, [
      "stack",
      "crds",
      "gatewayclass",
      "gateway",
      "route",
      "tls",
      "workload",
      "qdrant",
      "secret",
    ]);
    assert.match(report.checks.find((c) => c.id === "secret")!.summary, /token matches the authToken output/);
  });

  it("namespace label removed: the route is not admitted (NotAllowedByListeners); doctor's kubectl fix repairs it", async () => {
    kubectl(["label", "namespace", PROD.ns, "dot-ai-gateway/shared-gateway-"]);
    const check = await failsOnly(PROD.stack, "route", /namespace doctor-prod does not carry that label/);
    assert.match(check.summary, /NotAllowedByListeners/);
    assert.strictEqual(
      check.fix![0],
      "kubectl label namespace doctor-prod dot-ai-gateway/shared-gateway=cluster-gateway --overwrite",
    );
    // The checklist a person sees (not a terminal here: no colour), printed for the log.
    const text = run("node", [BIN, PROD.stack, "--cwd", PROJECT], { allowFailure: true });
    assert.strictEqual(text.status, 1);
    assert.ok(!text.stdout.includes("\x1b["), "no colour off a terminal");
    assert.match(text.stdout, /^ {2}FAIL {2}HTTPRoute: .*NotAllowedByListeners\n {8}cause: /m);
    console.log(text.stdout.replace(/^/gm, "      | "));
    runFix(check.fix![0]);
    await passes(PROD.stack);
  });

  it("Deployment scaled to 0: the workload check fails; doctor's kubectl fix repairs it", async () => {
    kubectl(["scale", "deployment", "dot-ai", "-n", PROD.ns, "--replicas=0"]);
    const check = await failsOnly(PROD.stack, "workload", /scaled dot-ai down/);
    assert.match(check.summary, /^Deployment dot-ai is scaled to 0 replicas/);
    assert.strictEqual(check.fix![0], "kubectl scale deployment dot-ai -n doctor-prod --replicas=1");
    runFix(check.fix![0]);
    await passes(PROD.stack);
  });

  it("TLS Secret deleted (its ClusterIssuer withheld, so cert-manager cannot re-issue it at once): the tls check fails", async () => {
    const issuer = recreatable(kubectlJson(["get", "clusterissuer", "letsencrypt-prod"]));
    kubectl(["delete", "clusterissuer", "letsencrypt-prod"]);
    try {
      kubectl(["delete", "secret", "wildcard-tls", "-n", PROD.gatewayNs]);
      const check = await failsOnly(PROD.stack, "tls", /ClusterIssuer letsencrypt-prod does not exist/);
      assert.match(check.summary, /TLS Secret doctor-gateway\/wildcard-tls does not exist/);
      assert.ok(
        check.fix!.some((f) => /clusterIssuer/.test(f)),
        JSON.stringify(check.fix),
      );
    } finally {
      kubectl(["create", "-f", "-"], { input: JSON.stringify(issuer) });
    }
    // cert-manager re-issues the Secret and Envoy Gateway resolves the listener again.
    await passes(PROD.stack);
  });

  it("the Secret's auth key removed: the secret check fails; `pulumi up --refresh` (doctor's fix) restores it", async () => {
    kubectl([
      "patch",
      "secret",
      "dot-ai-secrets",
      "-n",
      PROD.ns,
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/data/auth-token"}]',
    ]);
    const check = await failsOnly(PROD.stack, "secret", /bearer token key auth-token was removed/);
    assert.strictEqual(check.summary, "Secret doctor-prod/dot-ai-secrets lacks auth-token");
    assert.match(check.fix![0], /^pulumi up --refresh --stack doctor-prod/);
    await up(PROD.stack, ["--refresh"]);
    await passes(PROD.stack);
  });

  it("Gateway deleted: the gateway check fails and the route is not judged against it", async () => {
    const gateway = recreatable(kubectlJson(["get", "gateway", "cluster-gateway", "-n", PROD.gatewayNs]));
    kubectl(["delete", "gateway", "cluster-gateway", "-n", PROD.gatewayNs]);
    const check = await failsOnly(PROD.stack, "gateway", /the shared Gateway is gone/);
    assert.strictEqual(check.summary, "Gateway doctor-gateway/cluster-gateway does not exist");
    assert.match(check.fix![0], /^pulumi up --refresh --stack doctor-prod/);
    const route = doctor(PROD.stack).report.checks.find((c) => c.id === "route");
    assert.strictEqual(route?.status, "skip");
    // The same object again (faster than the refresh verified above; the stack is destroyed next).
    kubectl(["create", "-f", "-"], { input: JSON.stringify(gateway) });
    await passes(PROD.stack);
  });
});

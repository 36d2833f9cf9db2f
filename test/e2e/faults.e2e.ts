/**
 * Faults an operator meets on real clusters, on the real engine, providers and controllers: Gateway
 * API CRDs someone else installed (newer, or the same release applied by another field manager, with
 * and without the safe-upgrades admission policy), drift, two `pulumi up` at once, a `pulumi up`
 * killed halfway, a token rotation watched step by step, and the API server lost during an update.
 * Each must end with the stack converged, the token kept or rotated as asked, and the user told.
 *
 * One creation-pattern stack, `faults`, in its own namespace is deployed once and then hurt case
 * after case; it is destroyed at the end. docs/faults.md has the outcomes and figures.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { manifestObjects, readMissingObjects } from "../../cluster/chart-objects";
import { deployedRevision, readHelmRevisions } from "../../cluster/release-check";
import { CHART_VERSIONS } from "./dot-ai";
import {
  BUNDLE_RELEASE,
  GATEWAY_CONTROLLER_RUNS,
  KubeObject,
  Running,
  chartPackage,
  eventually,
  exists,
  helmRevisions,
  kubectl,
  kubectlJson,
  pulumi,
  pulumiUp,
  setConfig,
  sleep,
  startPulumi,
  timeSuite,
  watchHelmStatus,
  whileRunning,
  crdUids,
  forgetBundleOwnership,
  forgetBundleRelease,
} from "./tools";

const NEWEST_CHART = CHART_VERSIONS[CHART_VERSIONS.length - 1];
const STACK = "faults";
const NS = "faults";
const REF_STACK = "faults-ref";
const REF_NS = { app: "faults-ref", gateway: "faults-ref-gateway" };
const GROUP = "gateway.networking.k8s.io";
const BUNDLE_VERSION = `${GROUP}/bundle-version`;
const POLICY = `safe-upgrades.${GROUP}`;
/** The Helm release that holds the bundle's CRDs, and its resource in the stack. */
const [BUNDLE_NS, BUNDLE_NAME, BUNDLE_RESOURCE] = [
  BUNDLE_RELEASE.namespace,
  BUNDLE_RELEASE.name,
  BUNDLE_RELEASE.resource,
];

/** The Gateway API bundle the program installs (the local toolchain's copy of the release). */
function bundleFile(): string {
  const file = process.env.GATEWAY_API_CRDS_FILE;
  if (!file) throw new Error("GATEWAY_API_CRDS_FILE is not set (run through test/e2e/run.sh)");
  return file;
}

function bundleRelease(): string {
  const m = /gateway\.networking\.k8s\.io\/bundle-version: (v\S+)/.exec(fs.readFileSync(bundleFile(), "utf8"));
  if (!m) throw new Error(`no bundle-version in ${bundleFile()}`);
  return m[1];
}

/** A copy of the bundle that says it is release `version` (as a newer release would). */
function bundleAs(version: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "faults-bundle-")), "standard-install.yaml");
  const text = fs.readFileSync(bundleFile(), "utf8").replace(/(bundle-version: )v\S+/g, `$1${version}`);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * The bundle's objects as `kubectl apply --server-side -f <file>` leaves them on a cluster where
 * nobody else applied them: kubectl their only field manager. The objects are not deleted first
 * (deleting the CRDs would wait forever on the finalizer Envoy Gateway puts on its GatewayClass):
 * their recorded field managers are cleared, then kubectl applies.
 */
function applyAsKubectlOnly(file: string): void {
  forgetBundleOwnership();
  kubectl(["apply", "--server-side", "--force-conflicts", "-f", file]);
}

/** What the cluster holds of the bundle's CRDs: name -> bundle-version and field managers. */
function installedCrds(): Map<string, { version: string; managers: string[] }> {
  const list = kubectlJson<{ items: KubeObject[] }>(["get", "crd", "--show-managed-fields"]);
  return new Map(
    list.items
      .filter((c) => c.spec.group === GROUP)
      .map((c) => [
        c.metadata.name,
        {
          version: c.metadata.annotations?.[BUNDLE_VERSION],
          managers: (c.metadata.managedFields ?? [])
            .filter((f: KubeObject) => f.subresource !== "status")
            .map((f: KubeObject) => f.manager),
        },
      ]),
  );
}

function stateTypes(stack: string): string[] {
  const state = JSON.parse(pulumi(stack, ["stack", "export"]).stdout);
  return (state.deployment?.resources ?? [])
    .map((r: KubeObject) => r.type as string)
    .filter((t: string) => t !== "pulumi:pulumi:Stack");
}

/** A fresh stack of its own, set up as toolchain/env.sh sets up local stacks. */
function freshStack(stack: string, settings: Record<string, string>): void {
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  pulumi(stack, ["stack", "init"]);
  // One CLI call for all of them (set-all): each `pulumi config set` costs a CLI start.
  const plain = {
    chart: chartPackage(NEWEST_CHART),
    gatewayApiCrdsFile: bundleFile(),
    // These faults are the engine's, Helm's and the state's, not a controller's: where no Envoy
    // Gateway runs (the side lane of test/e2e/run.sh), nothing would set the Gateway Programmed.
    ...(GATEWAY_CONTROLLER_RUNS ? {} : { waitForGateway: "false" }),
    ...settings,
  };
  pulumi(stack, [
    "config",
    "set-all",
    ...Object.entries(plain).flatMap(([k, v]) => ["--plaintext", `dot-ai-gateway:${k}=${v}`]),
    "--secret",
    "dot-ai-gateway:anthropicApiKey=local-anthropic-key-not-real",
  ]);
}

function timed<T>(what: string, f: () => T): T {
  const t0 = Date.now();
  try {
    return f();
  } finally {
    console.log(`      [e2e time] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

function output(res: { stdout: string; stderr: string }): string {
  return res.stdout + res.stderr;
}

// --- runs in the background, for faults that happen during an update -------------------------

/** The pending operations of an exported deployment, as `<operation> <resource type>`. */
function pendingOperationsOf(exported: KubeObject): string[] {
  return (exported.deployment?.pending_operations ?? []).map((op: KubeObject) => `${op.type} ${op.resource.type}`);
}

/** The pending operations Pulumi's state holds for `stack` (read while an update may run). */
function pendingOperations(stack: string): string[] {
  return pendingOperationsOf(JSON.parse(pulumi(stack, ["stack", "export"]).stdout));
}

/** The newest revision of Helm release dot-ai in `namespace` and its status, from Helm's storage Secrets. */
function helmRelease(namespace: string, name = "dot-ai"): { revision: number; status: string; count: number } {
  const revisions = helmRevisions(namespace, name);
  return { ...(revisions[0] ?? { revision: 0, status: "none" }), count: revisions.length };
}

function secretToken(namespace: string): string | undefined {
  const secret = kubectlJson(["get", "secret", "dot-ai-secrets", "-n", namespace]);
  const value = secret.data?.["auth-token"];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString();
}

function outputToken(stack: string): string {
  return pulumi(stack, ["stack", "output", "authToken", "--show-secrets"]).stdout.trim();
}

const short = (token: string | undefined) =>
  token === undefined ? "none" : createHash("sha256").update(token).digest("hex").slice(0, 8);

/**
 * A TCP relay on 127.0.0.1 in front of the API server, in a process of its own: stopping it is
 * the API server lost for the stack that talks through it, while the tests keep their own
 * connection. The stack's `kubernetes:kubeconfig` points at it from its first update on.
 */
class ApiRelay {
  private child?: ChildProcess;
  readonly port: number;
  readonly kubeconfig: string;
  private readonly script: string;
  private readonly target: number;

  constructor() {
    const source = process.env.KUBECONFIG ?? "";
    const text = fs.readFileSync(source, "utf8");
    const m = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(text);
    if (!m) throw new Error(`no https://127.0.0.1 server in ${source}`);
    this.target = Number(m[1]);
    this.port = 20000 + Math.floor(Math.random() * 10000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faults-relay-"));
    this.kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(this.kubeconfig, text.replace(m[0], `server: https://127.0.0.1:${this.port}`));
    this.script = path.join(dir, "relay.js");
    fs.writeFileSync(
      this.script,
      // SIGUSR2 holds every connection (nothing is forwarded, nothing is dropped), SIGUSR1 releases.
      `const net = require("net");
const [port, target] = process.argv.slice(2).map(Number);
const pairs = new Set();
let held = false;
const each = (f) => { for (const pair of pairs) pair.forEach(f); };
process.on("SIGUSR2", () => { held = true; each((s) => s.pause()); });
process.on("SIGUSR1", () => { held = false; each((s) => s.resume()); });
net.createServer((c) => {
  const u = net.connect(target, "127.0.0.1");
  const pair = [c, u];
  pairs.add(pair);
  c.pipe(u); u.pipe(c);
  if (held) { c.pause(); u.pause(); }
  const drop = () => pairs.delete(pair);
  c.on("close", drop); u.on("close", drop);
  c.on("error", () => u.destroy()); u.on("error", () => c.destroy());
}).listen(port, "127.0.0.1");
`,
    );
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.child = spawn(process.execPath, [this.script, String(this.port), String(this.target)], { stdio: "ignore" });
    await eventually(
      `the API relay on :${this.port}`,
      () =>
        kubectl(["--server", `https://127.0.0.1:${this.port}`, "get", "--raw", "/readyz"], { allowFailure: true })
          .status === 0,
      10_000,
    );
  }

  stop(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }

  /** Requests through the relay hang (an API server that stopped answering) until `release`. */
  hold(): void {
    this.child?.kill("SIGUSR2");
  }

  release(): void {
    this.child?.kill("SIGUSR1");
  }
}

interface Sample {
  t: number;
  /** Short digest of the Secret's token. */
  token: string;
  /** DOT_AI_SECRETS_REVISION of the Deployment's pod template. */
  template: string;
  /** How the template reads the token. */
  tokenRef: string;
  /** DOT_AI_SECRETS_REVISION of each pod. */
  pods: string[];
}

function revisionOf(spec: KubeObject): string {
  const env: KubeObject[] = spec.containers.flatMap((c: KubeObject) => c.env ?? []);
  return String(env.find((e) => e.name === "DOT_AI_SECRETS_REVISION")?.value);
}

/** The Secret, the Deployment's pod template and the pods, at one moment. */
function sample(namespace: string, t0: number): Sample {
  const d = kubectlJson(["get", "deployment", "dot-ai", "-n", namespace]);
  const env: KubeObject[] = d.spec.template.spec.containers.flatMap((c: KubeObject) => c.env ?? []);
  const ref = env.find((e) => e.valueFrom?.secretKeyRef?.key === "auth-token")?.valueFrom.secretKeyRef;
  const pods = kubectlJson<{ items: KubeObject[] }>(["get", "pods", "-n", namespace]).items.filter(
    (p) =>
      p.metadata.ownerReferences?.[0]?.name?.startsWith("dot-ai-") &&
      !p.metadata.name.includes("agentic") &&
      !p.metadata.name.includes("qdrant"),
  );
  return {
    t: (Date.now() - t0) / 1000,
    token: short(secretToken(namespace)),
    template: revisionOf(d.spec.template.spec),
    tokenRef: ref ? `${ref.name}/${ref.key} (${ref.optional ? "optional" : "required"})` : "none",
    pods: pods.filter((p) => p.status.phase === "Running").map((p) => revisionOf(p.spec)),
  };
}

function routeHostnames(namespace: string): string[] {
  return kubectlJson(["get", "httproute", "dot-ai", "-n", namespace]).spec.hostnames;
}

function assertOneDeployedRelease(namespace: string): void {
  const release = helmRelease(namespace);
  assert.strictEqual(release.status, "deployed", JSON.stringify(release));
  const names = kubectlJson<{ items: KubeObject[] }>(["get", "secret", "-A", "-l", "owner=helm"]).items.map(
    (s) => `${s.metadata.namespace}/${s.metadata.labels.name}`,
  );
  // Besides the Gateway API bundle's, which every stack of the program on the cluster shares.
  assert.deepStrictEqual(
    [...new Set(names)].filter((n) => n !== `${BUNDLE_NS}/${BUNDLE_NAME}`),
    [`${namespace}/dot-ai`],
    "one Helm release of dot-ai, none orphaned",
  );
}

/** A process and every process under it, from /proc. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  const walk = (pid: number) => {
    tree.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return tree;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** SIGKILL to the pulumi CLI and every process under it (the engine's plugins run in their own groups). */
function killTree(running: Running): void {
  const root = running.child.pid;
  if (root !== undefined) killAll(processTree(root));
}

/**
 * The documented recovery after an interrupted update: `pulumi up`; if Helm still holds the
 * interrupted revision as pending, the program stops before registering anything, naming the
 * revision's record to delete (cluster/release-check.ts): run exactly the command it prints, then
 * `pulumi up` again.
 */
function recover(stack: string, namespace: string): void {
  const first = pulumiUp(stack, [], { allowFailure: true });
  if (first.status === 0) return;
  const out = output(first);
  assert.match(
    out,
    /The Helm release dot-ai in namespace \S+ is stuck: its newest revision \(\d+\) is pending-/,
    out.slice(-2000),
  );
  const fix = /kubectl delete secret (\S+) -n (\S+)/.exec(out);
  assert.ok(fix, "the message names the revision to delete");
  console.log(
    `      [faults] up stopped on Helm's pending revision ${JSON.stringify(helmRelease(namespace))}; running its fix`,
  );
  kubectl(["delete", "secret", fix[1], "-n", fix[2]]);
  pulumiUp(stack);
}

describe("faults", () => {
  timeSuite("faults");
  const release = bundleRelease();
  const newer = "v1.99.0";
  const relay = new ApiRelay();
  before(() => relay.start());

  after(async () => {
    relay.stop();
    await relay.start();
    for (const stack of [STACK, REF_STACK]) {
      pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"], { allowFailure: true });
      pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
    }
    try {
      for (const n of [NS, REF_NS.app, REF_NS.gateway]) {
        await eventually(`namespace ${n} to be deleted`, () => !exists(["namespace", n]));
      }
    } finally {
      // A relay left running would keep mocha from ever exiting after a failure.
      relay.stop();
    }
    // The next suites find the bundle of the release they install, owned by nobody.
    kubectl(["apply", "--server-side", "--force-conflicts", "-f", bundleFile()]);
    forgetBundleOwnership();
  });

  describe("killed while Helm installs the Gateway API CRDs", () => {
    it("SIGKILL during the first up's bundle release: pulumi cancel, refresh --clear-pending-creates, then up converges with one release of each", async () => {
      // The cluster keeps its CRDs (Envoy Gateway's GatewayClass holds a finalizer on them), owned
      // by nobody: the stack's release takes them over. The release earlier suites' stacks left
      // (retained) is forgotten as `helm uninstall` would, its CRDs kept: this is a first install.
      forgetBundleRelease();
      const uids = crdUids();
      // Plain HTTP, said in so many words: these cases are about faults, not certificates, and
      // change the hostname (a new certificate each time over HTTPS).
      freshStack(STACK, {
        mode: "creation",
        hostname: "dot-ai.faults.example.com",
        namespace: NS,
        gatewayClassName: "eg",
        https: "false",
        allowPlaintextHttp: "true",
      });
      pulumi(STACK, ["config", "set", "kubernetes:kubeconfig", relay.kubeconfig]);
      const t0 = Date.now();
      const run = startPulumi(STACK, ["up", "--yes", "--skip-preview"]);
      // Helm's install through the provider is over in about a second, too short to kill the CLI
      // inside it reliably. So the relay holds the stack's connections the moment the release's
      // create is shown, Helm hangs as on an API server that stopped answering, and the kill
      // comes once Pulumi's state holds the pending create.
      const creating = new RegExp(`Release ${BUNDLE_RESOURCE} creating`);
      const shown = await whileRunning(run, () => creating.test(run.stdout), 60_000, 20);
      let caught = false;
      if (shown) {
        relay.hold();
        const deadline = Date.now() + 15_000;
        while (!caught && Date.now() < deadline) {
          caught = pendingOperations(STACK).some((p) => p.startsWith(`creating kubernetes:helm.sh/v3:Release`));
          if (!caught) await sleep(500);
        }
      }
      killTree(run);
      await run.done;
      relay.release();
      console.log(
        `      [e2e time] up killed while Helm installed the bundle after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      assert.ok(caught, run.stdout.slice(-2000));
      const killed = JSON.parse(pulumi(STACK, ["stack", "export", "--show-secrets"]).stdout);
      const pending = pendingOperationsOf(killed);
      const left = helmRelease(BUNDLE_NS, BUNDLE_NAME);
      console.log(
        `      [faults] after SIGKILL: ${pending.length} pending operations (${[...new Set(pending)].join(", ")}); bundle release ${JSON.stringify(left)}`,
      );
      const password = (killed.deployment?.resources ?? []).find(
        (r: KubeObject) => r.type === "random:index/randomPassword:RandomPassword",
      )?.outputs?.result;
      const tokenBefore: string | undefined =
        password === undefined ? undefined : typeof password === "string" ? password : JSON.parse(password.plaintext);

      pulumi(STACK, ["cancel", "--yes"]);
      timed("refresh --clear-pending-creates", () =>
        pulumi(STACK, ["refresh", "--yes", "--clear-pending-creates", "--suppress-progress"]),
      );
      let res = timed("up after the refresh", () => pulumiUp(STACK, [], { allowFailure: true }));
      if (/^pending-/.test(left.status)) {
        // Helm's record of the interrupted install: the program stops, naming the revision to delete.
        assert.notStrictEqual(res.status, 0);
        const secret = `sh.helm.release.v1.${BUNDLE_NAME}.v${left.revision}`;
        assert.match(output(res), new RegExp(`kubectl delete secret ${secret.replace(/\./g, "\\.")} -n ${BUNDLE_NS}`));
        kubectl(["delete", "secret", secret, "-n", BUNDLE_NS]);
        res = timed("up after deleting the pending revision", () => pulumiUp(STACK, [], { allowFailure: true }));
      } else if (left.status === "deployed") {
        assert.match(output(res), /importing|imported/i, "the release installed by the orphaned provider is imported");
      }
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      assert.doesNotMatch(output(res), /pending operations/);
      const after = JSON.parse(pulumi(STACK, ["stack", "export"]).stdout);
      assert.deepStrictEqual(after.deployment?.pending_operations ?? [], [], "no pending operation left");
      const releases = (after.deployment?.resources ?? []).filter(
        (r: KubeObject) => r.type === "kubernetes:helm.sh/v3:Release",
      );
      assert.strictEqual(releases.length, 2, "the bundle's release and dot-ai's, once each");
      const now = crdUids();
      for (const [name, uid] of Object.entries(uids)) assert.strictEqual(now[name], uid, `${name} kept, not recreated`);
      assert.strictEqual(secretToken(NS), outputToken(STACK));
      if (tokenBefore !== undefined)
        assert.strictEqual(outputToken(STACK), tokenBefore, "the token made before the kill");
      assertOneDeployedRelease(NS);
      assert.strictEqual(helmRelease(BUNDLE_NS, BUNDLE_NAME).status, "deployed");
      const clean = pulumi(STACK, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"], {
        allowFailure: true,
      });
      assert.strictEqual(clean.status, 0, output(clean).slice(-3000));
    });
  });

  describe("killed after Helm installed dot-ai, before the state recorded it", () => {
    const HEAL = { stack: "faults-heal", namespace: "faults-heal", release: "dot-ai-heal" };
    /** The processes under the killed CLI: its orphaned provider would otherwise outlive the suite. */
    let orphans: number[] = [];
    after(async () => {
      killAll(orphans);
      pulumi(HEAL.stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"], { allowFailure: true });
      pulumi(HEAL.stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
      await eventually(`namespace ${HEAL.namespace} to be deleted`, () => !exists(["namespace", HEAL.namespace]));
    });

    it("SIGKILL to the first up's process group while Helm installs: the orphaned provider finishes; after cancel and refresh --clear-pending-creates, up imports the release (same token, one revision), then a clean preview", async () => {
      freshStack(HEAL.stack, {
        mode: "creation",
        hostname: "dot-ai.heal.example.com",
        namespace: HEAL.namespace,
        releaseName: HEAL.release,
        gatewayClassName: "eg",
        https: "false",
        allowPlaintextHttp: "true",
      });
      const run = startPulumi(HEAL.stack, ["up", "--yes", "--skip-preview"]);
      const creating = await whileRunning(
        run,
        () =>
          /Release dot-ai-release creating/.test(run.stdout) &&
          pendingOperations(HEAL.stack).includes("creating kubernetes:helm.sh/v3:Release"),
        120_000,
        100,
      );
      // As a user's Ctrl-\ or an OOM kill of the CLI: its process group only. The provider runs in
      // a group of its own and, orphaned, finishes Helm's install.
      if (run.child.pid !== undefined) {
        orphans = processTree(run.child.pid).slice(1);
        process.kill(-run.child.pid, "SIGKILL");
      }
      await run.done;
      assert.ok(creating, run.stdout.slice(-2000));
      await eventually(
        `Helm release ${HEAL.release} deployed by the orphaned provider`,
        () => helmRelease(HEAL.namespace, HEAL.release).status === "deployed",
      );
      killAll(orphans);
      const killed = JSON.parse(pulumi(HEAL.stack, ["stack", "export", "--show-secrets"]).stdout);
      assert.ok(pendingOperationsOf(killed).includes("creating kubernetes:helm.sh/v3:Release"));
      const password = (killed.deployment?.resources ?? []).find(
        (r: KubeObject) => r.type === "random:index/randomPassword:RandomPassword",
      )?.outputs?.result;
      const tokenBefore: string = typeof password === "string" ? password : JSON.parse(password.plaintext);

      // The recovery docs/faults.md gives for any interrupted update (before, the up still failed
      // with "cannot re-use a name that is still in use").
      pulumi(HEAL.stack, ["cancel", "--yes"], { allowFailure: true });
      pulumi(HEAL.stack, ["refresh", "--yes", "--clear-pending-creates", "--suppress-progress"]);
      const res = timed("up after the kill", () => pulumiUp(HEAL.stack, [], { allowFailure: true }));
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      assert.match(output(res), /import/i, "the release the orphaned provider installed is imported");
      console.log(
        `      [faults] ${
          output(res)
            .match(/Resources:[\s\S]*?Duration/)?.[0]
            .replace(/\s+/g, " ") ?? ""
        }`,
      );
      const after = JSON.parse(pulumi(HEAL.stack, ["stack", "export"]).stdout);
      assert.deepStrictEqual(after.deployment?.pending_operations ?? [], [], "no pending operation left");
      assert.strictEqual(secretToken(HEAL.namespace), tokenBefore, "the token made before the kill");
      assert.strictEqual(outputToken(HEAL.stack), tokenBefore);
      // The engine follows the import with an update of what Helm does not record (the chart's
      // path, the timeout): one more revision, with the values the killed run installed.
      const revisions = helmRevisions(HEAL.namespace, HEAL.release).map((r) => r.status);
      console.log(`      [faults] revisions after the heal: ${revisions.join(", ")}`);
      assert.deepStrictEqual(
        revisions.filter((r) => r !== "superseded"),
        ["deployed"],
        "one deployed revision, none pending or failed",
      );
      const clean = pulumi(HEAL.stack, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"], {
        allowFailure: true,
      });
      assert.strictEqual(clean.status, 0, output(clean).slice(-3000));
    });
  });

  describe("Gateway API CRDs someone else installed", () => {
    it(`the same release (${release}) applied with kubectl --server-side, with the policy: up leaves them, drops the bundle's release from its state (retained), no field conflict`, () => {
      const uids = crdUids();
      // The stack installed the CRDs (case above); now kubectl alone manages them.
      applyAsKubectlOnly(bundleFile());
      const res = timed("up over kubectl's CRDs", () => pulumiUp(STACK, [], { allowFailure: true }));
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      assert.doesNotMatch(output(res), /field conflict/i);
      assert.match(
        output(res),
        // After earlier suites, fields kubectl's apply did not cover stay with 'before-first-apply'.
        new RegExp(
          `Gateway API ${release.replace(/\./g, "\\.")} CRDs managed by 'kubectl'(, '[^']+')*, not by this program`,
        ),
      );
      for (const [name, crd] of installedCrds()) {
        assert.strictEqual(crd.version, release, name);
        assert.ok(crd.managers.includes("kubectl"), `${name} is still kubectl's`);
        assert.ok(!crd.managers.some((m) => /^pulumi/.test(m)), `${name} was not taken over: ${crd.managers}`);
      }
      const policy = kubectlJson(["get", "validatingadmissionpolicy", POLICY, "--show-managed-fields"]);
      assert.ok(!policy.metadata.managedFields.some((f: KubeObject) => /^pulumi/.test(f.manager)));
      assert.deepStrictEqual(
        stateTypes(STACK).filter((t) =>
          /CustomResourceDefinition|ValidatingAdmissionPolicy|helm.sh\/v3:Release/.test(t),
        ),
        ["kubernetes:helm.sh/v3:Release"],
        "dot-ai's release only",
      );
      // Out of the stack's state, but retained: other stacks of the program may share it.
      assert.strictEqual(helmRelease(BUNDLE_NS, BUNDLE_NAME).status, "deployed", "the bundle's release left in place");
      assert.deepStrictEqual(crdUids(), uids, "its CRDs kept");
      assert.ok(exists(["httproute", "dot-ai", "-n", NS]), "dot-ai deployed with their CRDs");
    });

    it("the same release without the policy: preview leaves them too", () => {
      kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", POLICY]);
      const res = timed("preview, same release, no policy", () =>
        pulumi(STACK, ["preview", "--diff", "--suppress-progress", "--expect-no-changes"], { allowFailure: true }),
      );
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      assert.match(output(res), /managed by 'kubectl'(, '[^']+')*, not by this program/);
    });

    it(`a newer bundle (${newer}) without the policy: never downgraded, the warning names both releases`, () => {
      applyAsKubectlOnly(bundleAs(newer));
      kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", POLICY]);
      const res = timed("up over a newer bundle, no policy", () => pulumiUp(STACK, [], { allowFailure: true }));
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      const out = output(res);
      assert.match(
        out,
        new RegExp(`The cluster has Gateway API ${newer}, newer than dot-ai-gateway:gatewayApiVersion`),
      );
      assert.match(out, /nothing on this cluster would have stopped that downgrade/);
      for (const [name, crd] of installedCrds()) assert.strictEqual(crd.version, newer, name);
    });

    it(`a newer bundle with its policy: preview and up leave it, no admission error`, () => {
      applyAsKubectlOnly(bundleAs(newer));
      for (const command of [
        ["preview", "--suppress-progress"],
        ["up", "--yes", "--skip-preview", "--suppress-progress"],
      ]) {
        const res = timed(`${command[0]} over a newer bundle with its policy`, () =>
          pulumi(STACK, command, { allowFailure: true }),
        );
        assert.strictEqual(res.status, 0, output(res).slice(-3000));
        assert.match(output(res), new RegExp(`safe-upgrades admission policy \\(${newer}\\) would refuse`));
        assert.doesNotMatch(output(res), /prohibited/);
      }
      for (const [name, crd] of installedCrds()) assert.strictEqual(crd.version, newer, name);
    });

    it("a newer bundle without a kind the stack creates: refused within seconds, naming the fix, nothing created", () => {
      kubectl(["delete", "crd", `referencegrants.${GROUP}`, "--wait=true"]);
      freshStack(REF_STACK, {
        mode: "reference",
        hostname: "dot-ai.faults-ref.example.com",
        namespace: REF_NS.app,
        gatewayNamespace: REF_NS.gateway,
        gatewayClassName: "eg",
        https: "false",
        allowPlaintextHttp: "true",
      });
      for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
        const t0 = Date.now();
        const res = pulumi(REF_STACK, [...command, "--suppress-progress"], { allowFailure: true });
        const seconds = (Date.now() - t0) / 1000;
        console.log(`      [e2e time] ${command[0]} refused (no ReferenceGrant kind): ${seconds.toFixed(1)} s`);
        assert.notStrictEqual(res.status, 0);
        const out = output(res);
        assert.match(out, /do not serve ReferenceGrant gateway\.networking\.k8s\.io\/v1/);
        assert.match(out, new RegExp(`Fix: kubectl apply --server-side -f \\S+/${newer}/standard-install\\.yaml`));
        assert.ok(seconds < 60, `${command[0]} took ${seconds} s`);
      }
      assert.ok(!exists(["namespace", REF_NS.app]));
      assert.deepStrictEqual(stateTypes(REF_STACK), []);
    });
  });

  describe("a deployed stack", () => {
    const hostnames = ["dot-ai.faults.example.com", "dot-ai-2.faults.example.com", "dot-ai-3.faults.example.com"];
    before(() => {
      // The cluster's own bundle again, kubectl's (the stack leaves it, as above).
      kubectl(["apply", "--server-side", "--force-conflicts", "-f", bundleFile()]);
    });

    it("concurrent runs: of two `pulumi up` at once one runs, the other is refused by the stack's lock; the state is intact", async () => {
      setConfig(STACK, { hostname: hostnames[1] });
      const t0 = Date.now();
      const up = ["up", "--yes", "--skip-preview", "--suppress-progress"];
      const results = await Promise.all([startPulumi(STACK, up), startPulumi(STACK, up)].map((r) => r.done));
      console.log(`      [e2e time] two concurrent ups: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const ran = results.filter((r) => r.status === 0);
      const refused = results.filter((r) => r.status !== 0);
      assert.strictEqual(ran.length, 1, results.map((r) => output(r).slice(-1500)).join("\n---\n"));
      assert.match(output(refused[0]), /the stack is currently locked by 1 lock\(s\)/);
      assert.match(output(refused[0]), /pulumi cancel/);
      assert.doesNotMatch(output(refused[0]), /Updating \(/, "refused before the update began");
      assert.strictEqual(pulumi(STACK, ["stack", "output", "url"]).stdout.trim(), `http://${hostnames[1]}`);
      assert.deepStrictEqual(routeHostnames(NS), [hostnames[1]]);
    });

    it("token rotation under load: the Secret always holds a token, no pod starts with a token the Secret no longer holds", async () => {
      const before = outputToken(STACK);
      setConfig(STACK, { tokenRotation: "faults-1" });
      const samples: Sample[] = [];
      const t0 = Date.now();
      const run = startPulumi(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
      await whileRunning(run, () => {
        samples.push(sample(NS, t0));
        return false;
      });
      const res = await run.done;
      assert.strictEqual(res.status, 0, output(res).slice(-2000));
      samples.push(sample(NS, t0));
      const after = outputToken(STACK);
      assert.notStrictEqual(after, before);
      assert.strictEqual(secretToken(NS), after);
      const oldRevision = samples[0].template;
      const newRevision = samples[samples.length - 1].template;
      assert.notStrictEqual(newRevision, oldRevision, "the pods rolled");
      for (const s of samples) {
        const line = JSON.stringify(s);
        assert.ok(s.token === short(before) || s.token === short(after), `the Secret always holds a token: ${line}`);
        assert.strictEqual(s.tokenRef, "dot-ai-secrets/auth-token (required)", line);
        // A pod of the new template reads the new token: the template must never change first.
        assert.ok(!(s.template === newRevision && s.token === short(before)), `new template, old token: ${line}`);
        assert.ok(!s.pods.some((p) => p === newRevision) || s.token === short(after), line);
      }
      const changed = samples.find((s) => s.token === short(after));
      const rolled = samples.find((s) => s.pods.length > 0 && s.pods.every((p) => p === newRevision));
      const stale = changed && rolled ? rolled.t - changed.t : NaN;
      console.log(
        `      [e2e time] rotation: ${samples[samples.length - 1].t.toFixed(1)} s; ${samples.length} samples; the Secret changed at ${changed?.t.toFixed(1)} s, every pod on the new template at ${rolled?.t.toFixed(1)} s: old-token pods for ${stale.toFixed(1)} s`,
      );
      await eventually("only pods of the new template", () => {
        const now = sample(NS, t0);
        return now.pods.length === 1 && now.pods[0] === newRevision;
      });
    });

    it("killed mid-deploy: SIGKILL while Helm upgrades the release; cancel, then up converges with the same token and one release", async () => {
      const token = outputToken(STACK);
      setConfig(STACK, { hostname: hostnames[2] });
      const upgrading = watchHelmStatus(NS, "dot-ai", "pending-upgrade");
      const run = startPulumi(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
      assert.ok(await upgrading.caught(run), "caught Helm upgrading");
      killTree(run);
      await run.done;
      console.log(`      [faults] after SIGKILL: Helm release ${JSON.stringify(helmRelease(NS))}`);
      // The lock it left refuses the next run as in the concurrent case above, naming pulumi cancel.
      pulumi(STACK, ["cancel", "--yes"]);
      timed("recovery after SIGKILL", () => recover(STACK, NS));
      assert.strictEqual(outputToken(STACK), token);
      assert.strictEqual(secretToken(NS), token);
      assert.deepStrictEqual(routeHostnames(NS), [hostnames[2]]);
      assertOneDeployedRelease(NS);
    });

    it("API server lost mid-deploy: up fails naming the connection, the next up (after clearing Helm's pending revision) converges", async () => {
      const token = outputToken(STACK);
      setConfig(STACK, { hostname: hostnames[0] });
      const t0 = Date.now();
      const upgrading = watchHelmStatus(NS, "dot-ai", "pending-upgrade");
      const run = startPulumi(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
      assert.ok(await upgrading.caught(run), "caught Helm upgrading");
      relay.stop();
      await sleep(15_000);
      await relay.start();
      const res = await run.done;
      const seconds = (Date.now() - t0) / 1000;
      console.log(`      [e2e time] up with the API server lost for 15 s: failed after ${seconds.toFixed(1)} s`);
      assert.notStrictEqual(res.status, 0);
      assert.match(output(res), /Release \(dot-ai-release\):[\s\S]*(connection refused|connection reset|EOF)/);
      timed("recovery after the API server came back", () => recover(STACK, NS));
      assert.strictEqual(outputToken(STACK), token);
      assert.deepStrictEqual(routeHostnames(NS), [hostnames[0]]);
      assertOneDeployedRelease(NS);
    });

    it("drift: a deleted HTTPRoute, edited shared Gateway listeners and an overwritten token are shown by preview --refresh (exit 0) and repaired by up --refresh; then no changes", async () => {
      // The chart's cluster-scoped objects (ClusterRole dot-ai) allow one release dot-ai per cluster.
      timed("destroy of the creation stack", () =>
        pulumi(STACK, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]),
      );
      timed("up, reference stack", () => pulumiUp(REF_STACK));
      const token = outputToken(REF_STACK);
      assert.strictEqual(secretToken(REF_NS.app), token);

      kubectl(["delete", "httproute", "dot-ai", "-n", REF_NS.app]);
      kubectl([
        "patch",
        "gateway",
        "cluster-gateway",
        "-n",
        REF_NS.gateway,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/listeners/0/port","value":8081}]',
      ]);
      kubectl([
        "patch",
        "secret",
        "dot-ai-secrets",
        "-n",
        REF_NS.app,
        "--type=merge",
        "-p",
        `{"data":{"auth-token":"${Buffer.from("overwritten-by-hand").toString("base64")}"}}`,
      ]);

      const revision = helmRelease(REF_NS.app).revision;

      const preview = timed("preview --refresh with drift", () =>
        pulumi(REF_STACK, ["preview", "--refresh", "--diff", "--suppress-progress"], { allowFailure: true }),
      );
      const shown = output(preview);
      // The Secret and the shared Gateway carry pulumi.com/patchForce: the dry run takes the hand
      // edits' fields back instead of failing on a conflict with kubectl-patch.
      assert.strictEqual(preview.status, 0, shown.slice(-3000));
      assert.doesNotMatch(shown, /field conflict/i);
      assert.match(shown, /~ port\s*: 80 => 8081/, "the edited listener");
      assert.match(shown, /kubernetes:core\/v1:Secret: \(refresh\)[\s\S]*f:auth-token[\s\S]*kubectl-patch/);
      assert.match(shown, /~ kubernetes:core\/v1:Secret: \(update\)/, "the overwritten token");
      assert.match(
        shown,
        new RegExp(
          `1 object\\(s\\) of the Helm release dot-ai \\(namespace ${REF_NS.app}, revision ${revision}\\) are missing from the cluster: HTTPRoute ${REF_NS.app}/dot-ai`,
        ),
        "the deleted HTTPRoute",
      );
      // What up will do about it, shown as a change the engine performs: the release's update.
      assert.match(
        shown,
        new RegExp(
          `~ kubernetes:helm\\.sh/v3:Release: \\(update\\)[\\s\\S]*description\\s*:.*"dot-ai-gateway: re-creates HTTPRoute ${REF_NS.app}/dot-ai, missing from revision ${revision}"`,
        ),
        "the repair, as an update of the release",
      );
      const up = timed("up --refresh repairing drift", () => pulumiUp(REF_STACK, ["--refresh"]));
      assert.match(output(up), /Secret \S+ updated .*\[diff: ~data\]/);
      assert.match(output(up), /Gateway \S+ updated .*\[diff: ~spec\]/);
      assert.match(output(up), /Release \S+ updated .*\[diff: ~description\]/);
      const gw = kubectlJson(["get", "gateway", "cluster-gateway", "-n", REF_NS.gateway]);
      assert.strictEqual(gw.spec.listeners[0].port, 80);
      assert.strictEqual(secretToken(REF_NS.app), outputToken(REF_STACK));
      assert.strictEqual(outputToken(REF_STACK), token, "the token the stack holds, not a new one");
      assert.deepStrictEqual(routeHostnames(REF_NS.app), ["dot-ai.faults-ref.example.com"], "the route is back");
      // Helm created it again, in the upgrade the engine ran: its own object, one revision later.
      const route = kubectlJson(["get", "httproute", "dot-ai", "-n", REF_NS.app]);
      assert.strictEqual(route.metadata.annotations["meta.helm.sh/release-name"], "dot-ai");
      assert.strictEqual(helmRelease(REF_NS.app).revision, revision + 1, "one Helm upgrade");
      const again = timed("preview after the repair", () =>
        pulumi(REF_STACK, ["preview", "--diff", "--refresh", "--expect-no-changes", "--suppress-progress"], {
          allowFailure: true,
        }),
      );
      assert.strictEqual(again.status, 0, output(again).slice(-3000));
      assert.doesNotMatch(output(again), /missing from the cluster/);
      // What the check costs when nothing is missing: the program's own reads, on this cluster.
      const selection = { kubeconfig: process.env.KUBECONFIG };
      for (const round of ["first (loads the client)", "second"]) {
        const t0 = process.hrtime.bigint();
        const deployed = deployedRevision(await readHelmRevisions(selection, REF_NS.app, "dot-ai"));
        const t1 = process.hrtime.bigint();
        assert.ok(deployed?.manifest, "the deployed revision's manifest, decoded");
        const objects = manifestObjects(deployed.manifest, REF_NS.app);
        const missing = await readMissingObjects(selection, objects);
        const t2 = process.hrtime.bigint();
        assert.deepStrictEqual(missing, []);
        assert.ok(objects.some((o) => o.kind === "HTTPRoute"));
        console.log(
          `      [e2e time] chart-objects check, ${round}: revisions ${Number(t1 - t0) / 1e6} ms, ${objects.length} objects ${Number(t2 - t1) / 1e6} ms`,
        );
      }
      assertOneDeployedRelease(REF_NS.app);
    });
  });
});

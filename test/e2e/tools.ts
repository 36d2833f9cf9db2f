/** Runs the real CLIs the end-to-end tests drive (pulumi against E2E_PROJECT, kubectl), and reads objects. */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, loadAll } from "js-yaml";

export const PROJECT = process.env.E2E_PROJECT ?? "";
/** Where the vendored real chart packages are (test/charts). */
export const CHARTS_DIR = process.env.E2E_CHARTS_DIR ?? path.join(__dirname, "..", "charts");
/** The GatewayClass of the Envoy Gateway that toolchain/cluster.sh runs. */
export const GATEWAY_CLASS = process.env.GATEWAY_CLASS_NAME ?? "eg";
/**
 * Whether an Envoy Gateway judges this cluster's Gateways: toolchain/cluster.sh prints its class
 * only when it runs one. The side lane of test/e2e/run.sh runs without.
 */
export const GATEWAY_CONTROLLER_RUNS = process.env.GATEWAY_CLASS_NAME !== undefined;
/** The controller name Envoy Gateway writes into route and GatewayClass status. */
export const EG_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller";
const TIMEOUT_MS = 900_000;

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { allowFailure?: boolean; input?: string } = {}): Result {
  const res = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    maxBuffer: 256 * 1024 * 1024,
    input: options.input,
  });
  const result = { status: res.status ?? -1, stdout: res.stdout ?? "", stderr: res.stderr ?? "" };
  if (res.error) throw new Error(`${cmd} ${args.join(" ")}: ${res.error.message}`);
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${result.status}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`,
    );
  }
  return result;
}

export function pulumi(stack: string, args: string[], options?: { allowFailure?: boolean }): Result {
  return run("pulumi", ["-C", PROJECT, "--non-interactive", ...args, "--stack", stack], options);
}

export interface Running {
  child: ChildProcess;
  done: Promise<Result>;
  exited: boolean;
  /** What it printed so far. */
  stdout: string;
}

/** `pulumi ARGS` in its own process group (so that a kill reaches the engine and its plugins too). */
export function startPulumi(stack: string, args: string[]): Running {
  const child = spawn("pulumi", ["-C", PROJECT, "--non-interactive", ...args, "--stack", stack], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const running: Running = {
    child,
    exited: false,
    stdout: "",
    done: Promise.resolve({ status: -1, stdout: "", stderr: "" }),
  };
  child.stdout?.on("data", (d: Buffer) => (running.stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  running.done = new Promise((resolve) =>
    child.on("close", (code, signal) => {
      running.exited = true;
      resolve({
        status: code ?? -1,
        stdout: running.stdout,
        stderr: stderr + (signal ? `\n[ended by ${signal}]` : ""),
      });
    }),
  );
  return running;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (every `everyMs`) while `running` runs; true once it holds, false when the run ended first. */
export async function whileRunning(
  running: Running,
  check: () => boolean,
  timeoutMs = 120_000,
  everyMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!running.exited && Date.now() < deadline) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return false;
}

/**
 * Watches (`kubectl get --watch`) for a revision of Helm release `release` in `status`, the label
 * on its release Secret. Start it before the run that makes one: `caught(running)` resolves true
 * as soon as one exists, or false when `running` (or the watch) ends first, and stops the watch.
 * Watched, not polled: a pending upgrade can last about a second, and on a busy machine a polling
 * kubectl takes about as long (a poll every 200 ms missed one with two test lanes on 2 cores).
 */
export function watchHelmStatus(
  namespace: string,
  release: string,
  status: string,
): { caught(running: Running): Promise<boolean> } {
  const selector = `owner=helm,name=${release},status=${status}`;
  const watch = spawn("kubectl", ["get", "secret", "-n", namespace, "-l", selector, "--watch", "-o", "name"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stopped = false;
  watch.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const seen = new Promise<boolean>((resolve) => {
    watch.stdout?.on("data", (d: Buffer) => {
      if (d.toString().trim() !== "") resolve(true);
    });
    watch.on("close", (code) => {
      // Said only when the watch failed on its own: then `caught` is false for that reason.
      if (!stopped)
        console.log(`      [e2e] kubectl watch of ${namespace}/${selector} ended (exit ${code}): ${stderr.trim()}`);
      resolve(false);
    });
  });
  return {
    async caught(running: Running): Promise<boolean> {
      try {
        return await Promise.race([seen, running.done.then(() => false)]);
      } finally {
        stopped = true;
        watch.kill();
      }
    },
  };
}

/** `pulumi up` without a preview, as a user would after one. */
export function pulumiUp(stack: string, extra: string[] = [], options?: { allowFailure?: boolean }): Result {
  return pulumi(stack, ["up", "--yes", "--skip-preview", "--suppress-progress", ...extra], options);
}

/** `pulumi ARGS --stack STACK` without blocking, so that stacks can be driven side by side. */
export function pulumiAsync(stack: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const full = ["-C", PROJECT, "--non-interactive", ...args, "--stack", stack];
    const child = spawn("pulumi", full, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { status: code ?? -1, stdout, stderr };
      if (result.status !== 0 && !options.allowFailure) {
        reject(new Error(`pulumi ${full.join(" ")} exited ${code}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      } else resolve(result);
    });
  });
}

/** A new stack in the e2e project with these settings (API keys as secrets), in one `config set-all`. */
export function createStack(
  stack: string,
  settings: Record<string, string>,
  secrets: Record<string, string> = {},
): void {
  run("pulumi", ["-C", PROJECT, "--non-interactive", "stack", "init", stack]);
  const pairs = (flag: string, values: Record<string, string>) =>
    Object.entries(values).flatMap(([k, v]) => [flag, `dot-ai-gateway:${k}=${v}`]);
  // --plaintext: the CLI refuses values that merely look random (a path) otherwise.
  pulumi(stack, ["config", "set-all", ...pairs("--plaintext", settings), ...pairs("--secret", secrets)]);
}

/**
 * Sets `settings` (keys without the project prefix), all as plaintext or all as secrets, in one
 * `pulumi config set-all`: one CLI start instead of one per key.
 */
export function setConfig(stack: string, settings: Record<string, string>, secret = false): void {
  const flag = secret ? "--secret" : "--plaintext";
  const args = Object.entries(settings).flatMap(([key, value]) => [flag, `dot-ai-gateway:${key}=${value}`]);
  if (args.length > 0) pulumi(stack, ["config", "set-all", ...args]);
}

export function kubectl(args: string[], options?: { allowFailure?: boolean; input?: string }): Result {
  return run("kubectl", args, options);
}

export function kubectlJson<T = KubeObject>(args: string[]): T {
  return JSON.parse(kubectl([...args, "-o", "json"]).stdout) as T;
}

/** Whether an object exists (kubectl get exits 1 with NotFound otherwise). */
export function exists(args: string[]): boolean {
  const res = kubectl(["get", ...args, "--ignore-not-found", "-o", "name"]);
  return res.stdout.trim() !== "";
}

/** The path of the vendored real chart package of `version`. */
export function chartPackage(version: string): string {
  const file = path.join(CHARTS_DIR, `dot-ai-${version}.tgz`);
  if (!fs.existsSync(file)) throw new Error(`no vendored chart ${file}`);
  return file;
}

/**
 * The objects of the Gateway API bundle the program installs, as `kubectl get` arguments: the CRDs
 * and, from v1.5.0 on, the safe-upgrades ValidatingAdmissionPolicy and its binding.
 */
export function gatewayApiBundle(): string[][] {
  const file = process.env.GATEWAY_API_CRDS_FILE;
  if (!file) throw new Error("GATEWAY_API_CRDS_FILE is not set (run through test/e2e/run.sh)");
  return (loadAll(fs.readFileSync(file, "utf8"), null, { schema: CORE_SCHEMA }) as (KubeObject | null)[])
    .filter((o): o is KubeObject => typeof o?.kind === "string")
    .map((o) => [`${o.kind.toLowerCase()}.${(o.apiVersion as string).split("/")[0]}`, o.metadata.name as string]);
}

/** The Helm release that holds the Gateway API bundle's CRDs (components/crds.ts), and its resource in a stack. */
export const BUNDLE_RELEASE = {
  name: "dot-ai-gateway-crds",
  namespace: "kube-system",
  resource: "gateway-api-crds-release",
};

/**
 * Clears the field managers of the bundle's objects, and the Helm ownership a stack's release left
 * on them: fields nobody owns, as on a cluster before SSA.
 */
export function forgetBundleOwnership(): void {
  const names = gatewayApiBundle().map(([kind, name]) => `${kind}/${name}`);
  // Three kubectl calls rather than some per object (~5 s less each time, on the shared 2 cores).
  const present = kubectl(["get", ...names, "--ignore-not-found", "-o", "name"])
    .stdout.split("\n")
    .filter(Boolean);
  if (present.length === 0) return;
  const ownership = {
    labels: { "app.kubernetes.io/managed-by": null },
    annotations: Object.fromEntries(
      [
        "meta.helm.sh/release-name",
        "meta.helm.sh/release-namespace",
        "helm.sh/resource-policy",
        "dot-ai-gateway/installed-by",
      ].map((k) => [k, null]),
    ),
  };
  kubectl(["patch", ...present, "--type=merge", "-p", JSON.stringify({ metadata: ownership })]);
  kubectl(["patch", ...present, "--type=merge", "-p", '{"metadata":{"managedFields":[{}]}}']);
}

/**
 * Forgets the bundle's release the earlier stacks left (retained), as `helm uninstall` would but
 * keeping its objects, and then who owned them: a cluster whose CRDs nobody holds. (Deleting the
 * CRDs instead would wait forever on the finalizer Envoy Gateway puts on its GatewayClass.)
 */
export function forgetBundleRelease(): void {
  kubectl(["delete", "secret", "-n", BUNDLE_RELEASE.namespace, "-l", `owner=helm,name=${BUNDLE_RELEASE.name}`]);
  forgetBundleOwnership();
}

/** The revisions of a Helm release, newest first, from the labels of Helm's storage Secrets. */
export function helmRevisions(namespace: string, release: string): { revision: number; status: string }[] {
  const list = kubectlJson<{ items: KubeObject[] }>([
    "get",
    "secret",
    "-n",
    namespace,
    "-l",
    `owner=helm,name=${release}`,
  ]);
  return list.items
    .map((s) => ({ revision: Number(s.metadata.labels.version), status: s.metadata.labels.status as string }))
    .sort((a, b) => b.revision - a.revision);
}

/** The UID of each Gateway API CRD: unchanged as long as none is deleted or recreated. */
export function crdUids(): Record<string, string> {
  const list = kubectlJson<{ items: KubeObject[] }>(["get", "crd"]);
  return Object.fromEntries(
    list.items
      .filter((c) => c.spec.group === "gateway.networking.k8s.io")
      .map((c) => [c.metadata.name as string, c.metadata.uid as string]),
  );
}

/** A status condition of an object (or of one of its listeners / route parents). */
export function condition(holder: KubeObject | undefined, type: string): KubeObject | undefined {
  return (holder?.conditions ?? holder?.status?.conditions ?? []).find((c: KubeObject) => c.type === type);
}

/** Whether condition `type` is True, and written for the object's current generation when it says so. */
export function isTrue(obj: KubeObject, type: string, holder: KubeObject = obj): boolean {
  const c = condition(holder, type);
  return (
    c?.status === "True" && (c.observedGeneration === undefined || c.observedGeneration === obj.metadata.generation)
  );
}

/** One line per condition, for assertion messages. */
export function describeConditions(holder: KubeObject | undefined): string {
  const conditions: KubeObject[] = holder?.conditions ?? holder?.status?.conditions ?? [];
  return conditions.map((c) => `${c.type}=${c.status} (${c.reason}: ${c.message})`).join("; ") || "no conditions";
}

/** Polls until `check` returns true or the timeout passes; never waits forever. */
export async function eventually(
  what: string,
  check: () => boolean,
  timeoutMs = 120_000,
  explain?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${explain ? `: ${explain()}` : ""}`);
}

/** Prints how long the enclosing describe block took, when it ends (passed or not). */
export function timeSuite(title: string): void {
  let start = 0;
  before(() => {
    start = Date.now();
  });
  after(() => {
    const line = `${title}: ${((Date.now() - start) / 1000).toFixed(0)} s`;
    SUITE_TIMES.push(line);
    console.log(`      [e2e time] ${line}`);
  });
}
export const SUITE_TIMES: string[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary Kubernetes objects as kubectl prints them
export type KubeObject = Record<string, any>;

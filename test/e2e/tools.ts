/** Runs the real CLIs the end-to-end tests drive: pulumi (against E2E_PROJECT) and kubectl. */
import { spawnSync } from "child_process";

export const PROJECT = process.env.E2E_PROJECT ?? "";
const TIMEOUT_MS = 600_000;

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { allowFailure?: boolean } = {}): Result {
  const res = spawnSync(cmd, args, { encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 });
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

export function kubectlJson<T = KubeObject>(args: string[]): T {
  return JSON.parse(run("kubectl", [...args, "-o", "json"]).stdout) as T;
}

/** Whether an object exists (kubectl get exits 1 with NotFound otherwise). */
export function exists(args: string[]): boolean {
  const res = run("kubectl", ["get", ...args, "--ignore-not-found", "-o", "name"]);
  return res.stdout.trim() !== "";
}

/** Polls until `check` returns true or the timeout passes; never waits forever. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary Kubernetes objects as kubectl prints them
export type KubeObject = Record<string, any>;

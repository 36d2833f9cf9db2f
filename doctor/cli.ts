/**
 * `npm run doctor [-- <stack>] [--json] [--probe] [--cwd <project dir>]`: reads the stack's
 * configuration and outputs, walks the live cluster read-only, and prints each check as pass,
 * fail (cause and fix) or skipped (why). Exit code 0 only when nothing failed; 2 for bad usage.
 */
import { isIP } from "net";

import { probesSkipped, runProbes } from "./checks/probe";
import { expectationsFrom } from "./expectations";
import { Report, failed, toJson, toText } from "./report";
import { CheckResult, fail, pass } from "./result";
import { StackRead, readStack } from "./stack";

export interface CliOptions {
  stack?: string;
  cwd: string;
  json: boolean;
  probe: boolean;
  /** `--probe-address`: probe through this Gateway address, the hostname pinned to it. */
  probeAddress?: string;
}

const USAGE = `usage: npm run doctor -- [<stack>] [--json] [--probe | --probe-address ADDR] [--cwd <Pulumi project directory>]

Checks a deployed stack against the live cluster (read-only) and says what is wrong and how to fix it.
  <stack>     the stack to check (default: the project's current stack)
  --json      one JSON document for CI instead of the checklist
  --probe     also resolve the hostname and open an authenticated MCP session at <url> (an
              initialize POST, then the DELETE that ends it; only where the Gateway is
              reachable; off by default)
  --probe-address ADDR
              the same requests through the Gateway at ADDR (an IP address), the hostname pinned
              to it and DNS not consulted: checks a new path before DNS points at it
  --cwd DIR   the Pulumi project directory (default: $DOT_AI_GATEWAY_PROJECT, which the local
              sandbox's env.sh sets to its project copy, else the current directory)
Exit code: 0 when no check failed, 1 when one did, 2 for a usage error.`;

/** The options, or a usage error message. */
export function parseArgs(argv: readonly string[], cwd: string): CliOptions | { error: string } | "help" {
  const options: CliOptions = { cwd, json: false, probe: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    else if (arg === "--json") options.json = true;
    else if (arg === "--probe") options.probe = true;
    else if (arg === "--probe-address") {
      const value = argv[++i];
      if (value === undefined || isIP(value) === 0) {
        return {
          error: `--probe-address needs the Gateway's IP address (kubectl get gateway -A), got ${value ?? "nothing"}`,
        };
      }
      options.probe = true;
      options.probeAddress = value;
    } else if (arg === "--cwd" || arg === "-C" || arg === "--stack" || arg === "-s") {
      const value = argv[++i];
      if (value === undefined) return { error: `${arg} needs a value` };
      if (arg === "--cwd" || arg === "-C") options.cwd = value;
      else options.stack = value;
    } else if (arg.startsWith("-")) return { error: `unknown option ${arg}` };
    else if (options.stack === undefined) options.stack = arg;
    else return { error: `one stack only (got ${options.stack} and ${arg})` };
  }
  return options;
}

const CLUSTER_TIMEOUT_MS = 30_000;

/** Everything doctor concludes about the stack. */
export async function runDoctor(options: CliOptions): Promise<Report> {
  let read: StackRead;
  // The Pulumi CLI starts first; loading the checks (which load the Pulumi SDK) overlaps with it.
  const reading = readStack({ stack: options.stack, cwd: options.cwd, keepToken: options.probe });
  reading.catch(() => undefined);
  const [{ diagnose }, { readSnapshot }, { withTimeout }] = await Promise.all([
    import("./diagnose"),
    import("./cluster"),
    import("../cluster/client"),
  ]);
  try {
    read = await reading;
  } catch (error) {
    return {
      stack: options.stack ?? "(current)",
      about: "not read",
      checks: [
        fail("stack", "Stack", "cannot read the stack", (error as Error).message, [
          "pulumi stack ls   # run doctor from the project directory (or --cwd), with the stack's backend logged in",
        ]),
      ],
    };
  }
  const result = expectationsFrom(read.stack, read.config, read.outputs);
  if (!result.ok) {
    return {
      stack: read.stack,
      about: "configuration or outputs unusable",
      checks: [
        fail(
          "stack",
          "Stack",
          `${result.problems.length} problem(s) with the stack`,
          result.problems.map((p) => p.problem).join("; "),
          result.problems.map((p) => p.fix),
        ),
      ],
    };
  }
  const x = result.expectations;
  const about = `${x.role === "combined" ? "" : `${x.role} stack, `}${x.mode} pattern${x.url ? `, ${x.url}` : ""}`;
  const stackCheck = pass(
    "stack",
    "Stack",
    `${x.role} stack, ${x.mode} pattern; Gateway ${x.gateway.namespace}/${x.gateway.name}${x.app ? `; dot-ai ${x.app.chartVersion} in ${x.app.namespace}` : ""}`,
  );
  let snapshot;
  try {
    snapshot = await withTimeout(readSnapshot(x, read.cluster), CLUSTER_TIMEOUT_MS, "reading the cluster");
  } catch (error) {
    const checks: CheckResult[] = [
      stackCheck,
      fail("cluster", "Cluster access", "cannot read the cluster", (error as Error).message, [
        "kubectl cluster-info   # the same KUBECONFIG; or the stack's kubernetes:kubeconfig / kubernetes:context",
      ]),
    ];
    return { stack: x.stack, about, checks };
  }
  const checks = [stackCheck, ...diagnose(x, snapshot)];
  checks.push(
    ...(options.probe
      ? await runProbes(x, snapshot, read.token, undefined, undefined, options.probeAddress)
      : probesSkipped()),
  );
  return { stack: x.stack, about, checks };
}

/**
 * Where the Pulumi project is when `--cwd` does not say: the local sandbox keeps its stacks' config
 * in a copy of the project, named by DOT_AI_GATEWAY_PROJECT in its env.sh, so that the
 * `npm run doctor -- <stack>` it prints works as typed.
 */
export function defaultProjectDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return env.DOT_AI_GATEWAY_PROJECT || cwd;
}

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, defaultProjectDir(process.env, process.cwd()));
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  if ("error" in parsed) {
    console.error(`${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const report = await runDoctor(parsed);
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  console.log(parsed.json ? toJson(report) : toText(report, colour));
  return failed(report) ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`doctor failed: ${(error as Error).stack ?? String(error)}`);
      process.exitCode = 1;
    },
  );
}

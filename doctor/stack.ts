/**
 * Reads the stack through the Pulumi CLI: its configuration (`pulumi config --json`, secret values
 * left out) and its outputs (`pulumi stack output --json --show-secrets`, because the token must
 * be compared). The token is digested at once; only `--probe` keeps it, in memory, to send it.
 */
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";

import type { ConfigResult } from "../stacks/config";
import { CONFIG_NAMESPACE } from "../stacks/config/types";
import type { ClusterSelection } from "../cluster/client";
import type { StackOutputsRead } from "./expectations";

export interface StackRead {
  stack: string;
  config: ConfigResult;
  outputs: StackOutputsRead;
  /** The cluster the stack's Kubernetes provider uses. */
  cluster: ClusterSelection;
  /** The bearer token, only when asked for (`--probe`). */
  token?: string;
}

export interface StackOptions {
  /** The stack; the project's current stack when absent. */
  stack?: string;
  /** The Pulumi project directory. */
  cwd: string;
  keepToken: boolean;
}

/** A value of `pulumi config --json`: secrets come without their value. */
interface ConfigEntry {
  value?: string;
  secret: boolean;
}

/** What stands in for a secret's value: parseConfig only asks whether it is set. */
const SECRET_PLACEHOLDER = "[secret]";

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function pulumiCli(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "pulumi",
      ["--non-interactive", "-C", cwd, ...args],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) {
          // Never echo stdout: with --show-secrets it holds the token.
          const reason =
            (error as NodeJS.ErrnoException).code === "ENOENT" ? "the pulumi CLI is not on PATH" : stderr.trim();
          reject(
            new Error(`pulumi ${args.filter((a) => a !== "--show-secrets").join(" ")}: ${reason || error.message}`),
          );
        } else resolve(stdout);
      },
    );
  });
}

/** The values of the program's namespace, keyed without the prefix, and which of them are secret. */
export function configInput(entries: Record<string, ConfigEntry>): {
  values: Record<string, string>;
  secretKeys: Set<string>;
} {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [fullKey, entry] of Object.entries(entries)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    values[key] = entry.secret ? SECRET_PLACEHOLDER : (entry.value ?? "");
    if (entry.secret) secretKeys.add(key);
  }
  return { values, secretKeys };
}

/** The outputs doctor uses, the token replaced by its digest. */
export function outputsRead(raw: Record<string, unknown>): StackOutputsRead {
  const str = (key: string) => (typeof raw[key] === "string" ? (raw[key] as string) : undefined);
  const token = str("authToken");
  const out: StackOutputsRead = {};
  for (const key of [
    "role",
    "mode",
    "platformStack",
    "gatewayName",
    "gatewayNamespace",
    "gatewayAddress",
    "url",
  ] as const) {
    const value = str(key);
    if (value !== undefined && value !== "") out[key] = value;
  }
  if (token) out.authTokenDigest = sha256(token);
  return out;
}

/** The project's name from its Pulumi.yaml, if readable. */
function projectName(cwd: string): string | undefined {
  try {
    const doc = load(fs.readFileSync(path.join(cwd, "Pulumi.yaml"), "utf8"), { schema: CORE_SCHEMA }) as {
      name?: unknown;
    };
    return typeof doc?.name === "string" ? doc.name : undefined;
  } catch {
    return undefined;
  }
}

export async function readStack(options: StackOptions): Promise<StackRead> {
  const stack = options.stack ?? (await pulumiCli(["stack", "--show-name"], options.cwd)).trim();
  const [configText, outputText] = await Promise.all([
    pulumiCli(["config", "--json", "--stack", stack], options.cwd),
    pulumiCli(["stack", "output", "--json", "--show-secrets", "--stack", stack], options.cwd),
  ]);
  // The program's config code loads the Pulumi SDK (about 2 s); cli.ts loads it while the CLI runs.
  const { parseConfig } = await import("../stacks/config");
  const entries = JSON.parse(configText) as Record<string, ConfigEntry>;
  const { values, secretKeys } = configInput(entries);
  // A variable, not a literal: `project` is optional in ConfigInput and absent from older versions of it.
  const input = { stack, project: projectName(options.cwd), values, secretKeys, baseDir: options.cwd };
  const config = parseConfig(input);
  const raw = JSON.parse(outputText) as Record<string, unknown>;
  const outputs = outputsRead(raw);
  const plain = (key: string) => {
    const e = entries[key];
    return e && !e.secret && e.value ? e.value : undefined;
  };
  // A kubeconfig in config is usually a secret: read it alone, and keep it in this process.
  const kubeconfig = entries["kubernetes:kubeconfig"]?.secret
    ? (await pulumiCli(["config", "get", "kubernetes:kubeconfig", "--stack", stack], options.cwd)).trim()
    : plain("kubernetes:kubeconfig");
  return {
    stack,
    config,
    outputs,
    cluster: {
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(plain("kubernetes:context") ? { context: plain("kubernetes:context") } : {}),
      ...(plain("kubernetes:cluster") ? { cluster: plain("kubernetes:cluster") } : {}),
    },
    ...(options.keepToken && typeof raw.authToken === "string" ? { token: raw.authToken } : {}),
  };
}

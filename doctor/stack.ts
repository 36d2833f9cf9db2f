/**
 * Reads the stack with the Automation API (`LocalWorkspace`, the library's way to a stack's config
 * and outputs): its configuration, secret values replaced before anything judges it (the
 * kubeconfig excepted, which only reaches the cluster client), and its outputs, the token among
 * them because it must be compared. The token is digested at once; only `--probe` keeps it, in
 * memory, to send it.
 */
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
  // Loaded here: the SDK takes a second or two, and cli.ts loads the checks meanwhile.
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const ws = await cliStep("pulumi version", () => LocalWorkspace.create({ workDir: options.cwd }));
  const stack = options.stack ?? (await cliStep("pulumi stack ls", () => ws.stack()))?.name;
  if (stack === undefined) {
    throw new Error(
      `no stack selected in ${options.cwd}: name one (npm run doctor -- <stack>) or run pulumi stack select`,
    );
  }
  const [configMap, outputMap] = await Promise.all([
    cliStep("pulumi config", () => ws.getAllConfig(stack)),
    cliStep("pulumi stack output", () => ws.stackOutputs(stack)),
  ]);
  // The program's config code loads the Pulumi SDK (about 2 s); cli.ts loads it while the CLI runs.
  const { parseConfig } = await import("../stacks/config");
  // Secret values go no further than this function: the judging sees only that they are set.
  const entries = Object.fromEntries(
    Object.entries(configMap).map(([key, v]) => [key, { value: v.secret ? undefined : v.value, secret: v.secret }]),
  ) as Record<string, ConfigEntry>;
  const { values, secretKeys } = configInput(entries);
  // A variable, not a literal: `project` is optional in ConfigInput and absent from older versions of it.
  const input = { stack, project: projectName(options.cwd), values, secretKeys, baseDir: options.cwd };
  const config = parseConfig(input);
  const raw = Object.fromEntries(Object.entries(outputMap).map(([key, v]) => [key, v.value as unknown]));
  const outputs = outputsRead(raw);
  const plain = (key: string) => {
    const e = entries[key];
    return e && !e.secret && e.value ? e.value : undefined;
  };
  // A kubeconfig in config is usually a secret: kept in this process, for the cluster client only.
  const kubeconfig = configMap["kubernetes:kubeconfig"]?.value || undefined;
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

/**
 * A step of the Automation API, whose failure says which CLI command failed and why (its stderr),
 * never its stdout: with secrets shown, that holds the token and the keys.
 */
async function cliStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const result = (error as { commandResult?: { stderr?: string } }).commandResult;
    const reason =
      result !== undefined
        ? result.stderr?.trim() || "failed"
        : (error as NodeJS.ErrnoException).code === "ENOENT" || /ENOENT|not found/.test(String(error))
          ? "the pulumi CLI is not on PATH"
          : (error as Error).message;
    // No `cause`: the CommandError's message holds the command's stdout, which may show secrets.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`${what}: ${reason}`);
  }
}

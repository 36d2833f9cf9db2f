import { checkDnsLabel, checkDnsSubdomain, isOneOf, parseBoolean, parseJson } from "../validators";
import { CONFIG_NAMESPACE, ConfigInput, ConfigProblem } from "./types";

/**
 * Reads raw config values and collects every problem and warning on the way, so that validation
 * reports all of them at once instead of stopping at the first.
 *
 * Why no schema library for the primitives (booleans, enumerations, names, JSON maps and lists):
 * measured in issue 12 with valibot 1.5 on all of them, including the platform outputs' shape. Each
 * message and fix is ours and per key anyway, a failed value must fall back so that the domain rules
 * still run in the same pass, and the library's defaults differ from ours (a record accepts an
 * array). The result kept every message but had as many code lines (1,262), and the library adds
 * about 20 ms to every program start (zod about 125 ms). The primitives are some 140 of the ~1,540
 * lines here; the rest is domain rules, their messages, the types and the loading.
 */
export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];

  constructor(readonly input: ConfigInput) {}

  get stack(): string {
    return this.input.stack;
  }

  /** Whether the key is set to a non-empty value. */
  has(key: string): boolean {
    const value = this.input.values[key];
    return value !== undefined && value !== "";
  }

  /** Whether the key was stored with `--secret`. */
  isSecret(key: string): boolean {
    return this.input.secretKeys.has(key);
  }

  str(key: string, fallback: string): string {
    return this.has(key) ? this.input.values[key] : fallback;
  }

  /** The value, or undefined when unset. */
  optional(key: string): string | undefined {
    return this.has(key) ? this.input.values[key] : undefined;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const parsed = parseBoolean(this.input.values[key]);
    if (parsed !== undefined) return parsed;
    this.report(key, `is '${this.input.values[key]}', not a boolean`, setCommand(key, String(!fallback)));
    return fallback;
  }

  /** A value one of `allowed`, or the fallback after reporting the problem. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T, example: T): T {
    const value = this.str(key, fallback);
    if (isOneOf(allowed, value)) return value;
    this.report(key, `'${value}' is not one of ${allowed.join(", ")}`, setCommand(key, example));
    return fallback;
  }

  /** An RFC 1123 label such as a namespace or release name. */
  dnsLabel(key: string, fallback: string, what: string, maxLength = 63): string {
    const value = this.str(key, fallback);
    const problem = checkDnsLabel(value, maxLength);
    if (problem) this.report(key, `'${value}' ${problem}`, `${setCommand(key, fallback)} (a valid ${what})`);
    return value;
  }

  /** An RFC 1123 subdomain such as a Secret or GatewayClass name; only a value the user typed is checked. */
  dnsSubdomain(key: string, fallback: string, example = fallback): string {
    const value = this.str(key, fallback);
    const problem = this.has(key) ? checkDnsSubdomain(value) : undefined;
    if (problem) this.report(key, `'${value}' ${problem}`, setCommand(key, example));
    return value;
  }

  /**
   * A JSON list of namespace names, as `pulumi config set --path '<key>[0]' <name>` writes it: sorted,
   * without repeats; undefined when unset. `also` adds a rule of the caller's per name.
   */
  namespaceList(key: string, also?: (name: string) => string | undefined): string[] | undefined {
    const text = this.optional(key);
    if (text === undefined) return undefined;
    const fix = `pulumi config set --path '${CONFIG_NAMESPACE}:${key}[0]' team-a`;
    const names = parseJson(text);
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
      this.report(key, "must be a list of namespace names", fix);
      return [];
    }
    for (const name of names) {
      const problem = checkDnsLabel(name) ?? also?.(name);
      if (problem) this.report(key, `entry '${name}' ${problem}`, fix);
    }
    return [...new Set(names)].sort();
  }

  report(key: string, problem: string, fix: string): void {
    this.problems.push({ key, problem, fix });
  }

  /** Reports each of `keys` that is set, as a setting that would do nothing here (`why`); the fix removes it. */
  refuse(keys: readonly string[], why: string): void {
    for (const key of keys.filter((k) => this.has(k))) this.report(key, why, removeCommand(key));
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}

/** The command that sets a key, for the "Fix:" line of a problem. */
export function setCommand(key: string, example: string, secret = false): string {
  return `pulumi config set ${secret ? "--secret " : ""}${CONFIG_NAMESPACE}:${key} ${example}`;
}

export function removeCommand(key: string): string {
  return `pulumi config rm ${CONFIG_NAMESPACE}:${key}`;
}

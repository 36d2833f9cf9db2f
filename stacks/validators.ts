/**
 * Pure checks for the values users type into stack config. Each returns a problem description
 * (what is wrong) or undefined; the caller adds the key name and the fix.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 label: what Kubernetes requires of namespace names and many other names. */
export function checkDnsLabel(value: string, maxLength = 63): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > maxLength) return `is ${value.length} characters long; the limit is ${maxLength}`;
  if (!DNS_LABEL.test(value)) {
    return "must consist of lowercase letters, digits and '-', and start and end with a letter or digit (RFC 1123 label)";
  }
  return undefined;
}

/** RFC 1123 subdomain: what Kubernetes requires of Secret names. */
export function checkDnsSubdomain(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > 253) return `is ${value.length} characters long; the limit is 253`;
  const bad = value.split(".").find((label) => checkDnsLabel(label) !== undefined);
  return bad === undefined
    ? undefined
    : `has the invalid part '${bad}': each dot-separated part must be lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)`;
}

/**
 * A public hostname as Gateway API listeners and HTTPRoutes accept it: RFC 1123, at least two
 * labels, no trailing dot, no IP address. Wildcards are refused here; only the platform's
 * certificate uses one, and it derives it from the domain.
 */
export function checkHostname(value: string): string | undefined {
  if (value.includes("*")) return "must not contain a wildcard; give the exact host name, e.g. dot-ai.example.com";
  if (value !== value.toLowerCase()) return "must be lowercase";
  if (value.endsWith(".")) return "must not end with a dot";
  const problem = checkDnsSubdomain(value);
  if (problem) return problem;
  if (!value.includes(".")) return "must be a fully qualified name with at least two labels, e.g. dot-ai.example.com";
  if (/^[0-9.]+$/.test(value)) return "must be a DNS name, not an IP address";
  return undefined;
}

/** A DNS domain for a wildcard certificate, given without the leading '*.'. */
export function checkDomain(value: string): string | undefined {
  if (value.startsWith("*."))
    return `must be given without the wildcard: use '${value.slice(2)}', the program adds '*.' itself`;
  return checkHostname(value);
}

/** Whether `*.<domain>` or `<domain>` covers `hostname` (a wildcard matches exactly one label). */
export function isCoveredByWildcard(hostname: string, domain: string): boolean {
  if (hostname === domain) return true;
  if (!hostname.endsWith(`.${domain}`)) return false;
  return !hostname.slice(0, -(domain.length + 1)).includes(".");
}

/** The parent domain of a hostname with three or more labels, else the hostname itself. */
export function parentDomain(hostname: string): string {
  const labels = hostname.split(".");
  return labels.length >= 3 ? labels.slice(1).join(".") : hostname;
}

/** Gateway API `Duration` (GEP-2257): one to four `<1-5 digits><h|m|s|ms>` parts, e.g. "1h30m". */
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Milliseconds of a Gateway API duration, or undefined when it is not one. */
export function parseGatewayDuration(value: string): number | undefined {
  if (!GATEWAY_DURATION.test(value)) return undefined;
  let total = 0;
  for (const part of value.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(part[1]) * UNIT_MS[part[2]];
  return total;
}

export function parseBoolean(value: string): boolean | undefined {
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** Whether `value` is one of `allowed`, narrowing it to their type. */
export function isOneOf<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return (allowed as readonly unknown[]).includes(value);
}

/** A JSON object whose values are all strings (not an array, not null). */
export function isStringMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

/** The JSON value of a config string (as `pulumi config set --path` writes objects and lists), or undefined. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A config string holding a JSON object of string values, or undefined when it is not one. */
export function parseStringMap(text: string): Record<string, string> | undefined {
  const parsed = parseJson(text);
  return isStringMap(parsed) ? parsed : undefined;
}

/** Kubernetes label syntax: an optional DNS-subdomain prefix and '/', then a name of up to 63 characters. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** What is wrong with a Kubernetes label `key: value`, or undefined. */
export function checkLabel(key: string, value: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (!LABEL_NAME.test(key.slice(slash + 1)) || (prefix !== undefined && checkDnsSubdomain(prefix) !== undefined)) {
    return `'${key}' is not a Kubernetes label key ([prefix/]name, name at most 63 characters)`;
  }
  if (!LABEL_VALUE.test(value)) {
    return `the value of '${key}' is not a Kubernetes label value (at most 63 characters of letters, digits, '-', '_', '.')`;
  }
  return undefined;
}

/**
 * What the policies know of a resource, whether it comes from a resource validation (its inputs)
 * or a stack validation (its outputs, which for the Kubernetes resources here repeat the inputs),
 * and how each policy is run so that it never throws.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidation,
  StackValidationArgs,
} from "@pulumi/policy";

import { Json, asString, at, isObject, plain, stringList } from "./values";

export interface Res {
  type: string;
  urn: string;
  name: string;
  props: Json;
}

/** The Pulumi type tokens of the Kubernetes provider: `kubernetes:<group>/<version>:<Kind>`. */
export const TYPES = {
  helmRelease: "kubernetes:helm.sh/v3:Release",
  namespace: "kubernetes:core/v1:Namespace",
} as const;

const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
const CERT_MANAGER_GROUP = "cert-manager.io";

/** The API group and kind of a Kubernetes type token, e.g. `gateway.networking.k8s.io` and `Gateway`. */
export function groupKind(type: string): { group: string; kind: string } | undefined {
  const match = /^kubernetes:(.+)\/[^/:]+:([A-Za-z0-9]+)$/.exec(type);
  return match ? { group: match[1], kind: match[2] } : undefined;
}

function isKind(type: string, group: string, kinds: readonly string[]): boolean {
  const gk = groupKind(type);
  return gk !== undefined && gk.group === group && kinds.includes(gk.kind);
}

/** A Gateway, or a server-side apply patch of one (which can add listeners to a Gateway Helm made). */
export const isGatewayLike = (type: string): boolean => isKind(type, GATEWAY_API_GROUP, ["Gateway", "GatewayPatch"]);
export const isHttpRoute = (type: string): boolean => isKind(type, GATEWAY_API_GROUP, ["HTTPRoute"]);
export const isCertificate = (type: string): boolean => isKind(type, CERT_MANAGER_GROUP, ["Certificate"]);
export const isIssuer = (type: string): boolean => isKind(type, CERT_MANAGER_GROUP, ["Issuer", "ClusterIssuer"]);

/** The stack and project a URN names: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOf(urn: string): { stack: string; project: string } | undefined {
  const prefix = "urn:pulumi:";
  if (!urn.startsWith(prefix)) return undefined;
  const parts = urn.slice(prefix.length).split("::");
  return parts.length >= 4 && parts[0] && parts[1] ? { stack: parts[0], project: parts[1] } : undefined;
}

/**
 * Whether the resource's stack is one of `prodStacks`. An entry is a stack name (`prod`), or
 * `<project>/<stack>`, or `<org>/<project>/<stack>`; a URN does not carry the organisation, so that
 * part is not compared.
 */
export function isProdStack(urn: string, prodStacks: readonly string[]): boolean {
  const where = stackOf(urn);
  if (!where) return false;
  return prodStacks.some((entry) => {
    const parts = entry.split("/");
    if (parts.length === 1) return parts[0] === where.stack;
    const [project, stack] = parts.slice(-2);
    return project === where.project && stack === where.stack;
  });
}

export const DEFAULT_PROD_STACKS = ["prod"];

/** The `prodStacks` policy config property shared by the prod-only policies. */
export const PROD_STACKS_SCHEMA = {
  type: "array" as const,
  items: { type: "string" as const },
  default: DEFAULT_PROD_STACKS,
  description:
    "Stacks held to the production rules: a stack name, or <project>/<stack> (the organisation is not in a URN)",
};

export function prodStacksOf(config: Record<string, unknown>): string[] {
  return stringList(config.prodStacks, DEFAULT_PROD_STACKS);
}

/** `metadata.name` and `metadata.namespace` (default `default`, as the provider does without a namespace). */
export function objectName(props: Json): { name: Json | undefined; namespace: Json } {
  const namespace = at(props, "metadata", "namespace");
  return {
    name: at(props, "metadata", "name"),
    namespace: namespace === undefined || namespace === "" ? "default" : namespace,
  };
}

/** The labels a Namespace resource declares. */
export function declaredLabels(props: Json): Record<string, string> {
  const labels = at(props, "metadata", "labels");
  const out: Record<string, string> = {};
  if (isObject(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      const value = asString(v);
      if (value !== undefined) out[k] = value;
    }
  }
  return out;
}

function configOf(args: { getConfig<T extends object>(): T }): Record<string, unknown> {
  try {
    const config = args.getConfig<Record<string, unknown>>();
    return typeof config === "object" && config !== null ? config : {};
  } catch {
    return {};
  }
}

/**
 * Something went wrong inside a policy (a shape nobody foresaw): it is written to the analyzer's
 * stderr, which the engine shows, and the policy reports nothing for that resource or stack.
 */
function skipped(policy: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`policy ${policy}: check skipped: ${message}`);
}

export type ResourceCheck = (res: Res, config: Record<string, unknown>, report: (message: string) => void) => void;
export type StackCheck = (
  resources: Res[],
  config: Record<string, unknown>,
  report: (message: string, urn?: string) => void,
) => void;

/** A resource validation that sees a plain copy of the inputs and never throws. */
export function resourceValidation(policy: string, check: ResourceCheck): ResourceValidation {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    try {
      const res: Res = { type: args.type, urn: args.urn, name: args.name, props: plain(args.props) };
      check(res, configOf(args), (message) => reportViolation(message));
    } catch (error) {
      skipped(policy, error);
    }
  };
}

/**
 * A policy of this pack that judges one resource at a time: its name, level and description, as
 * the engine shows them, and its check, which never throws (see `resourceValidation`).
 */
export function resourcePolicy(
  name: string,
  level: { enforcementLevel: EnforcementLevel; severity: Severity },
  description: string,
  check: ResourceCheck,
): ResourceValidationPolicy {
  return { name, description, ...level, validateResource: resourceValidation(name, check) };
}

/** A stack validation that sees plain copies of every resource's properties and never throws. */
export function stackValidation(policy: string, check: StackCheck): StackValidation {
  return (args: StackValidationArgs, reportViolation: ReportViolation) => {
    try {
      const resources = (args.resources ?? []).map((r: PolicyResource): Res => ({
        type: r.type,
        urn: r.urn,
        name: r.name,
        props: plain(r.props),
      }));
      check(resources, configOf(args), (message, urn) => reportViolation(message, urn));
    } catch (error) {
      skipped(policy, error);
    }
  };
}

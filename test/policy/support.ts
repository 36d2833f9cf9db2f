/**
 * Calls the policy pack's validations directly, as the @pulumi/policy analyzer server does
 * (node_modules/@pulumi/policy/server.js): resource properties wrapped in the SDK's own
 * unknown-checking proxy, `getConfig` returning the policy's config, and every `reportViolation`
 * collected. No engine and no gRPC server: policy/policies.ts is imported, never policy/index.ts.
 */
import * as policySdk from "@pulumi/policy";
import type {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

/** The engine's sentinel for a string not known at preview (@pulumi/policy proxy.js unknownStringValue). */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * @pulumi/policy exports `unknownCheckingProxy` at run time (index.js) but its declaration is
 * stripped from proxy.d.ts (marked internal), hence the cast; test "the SDK seam" checks it.
 */
export const unknownCheckingProxy = (policySdk as unknown as { unknownCheckingProxy?: (o: object) => object })
  .unknownCheckingProxy as (o: object) => Record<string, unknown>;

export const PROJECT = "dot-ai-gateway";

export interface TestResource {
  type: string;
  /** The Pulumi resource name; defaults to the type's kind in lower case. */
  name?: string;
  /** Default `dev`. */
  stack?: string;
  /** The URN as the engine gave it; built from the stack, type and name otherwise. */
  urn?: string;
  props: Record<string, unknown>;
}

export interface Violation {
  message: string;
  urn?: string;
}

export function urnOf(r: TestResource): string {
  if (r.urn) return r.urn;
  const name = r.name ?? r.type.split(":").pop()!.toLowerCase();
  return `urn:pulumi:${r.stack ?? "dev"}::${PROJECT}::${r.type}::${name}`;
}

const OPTS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

function notApplicable(reason?: string): never {
  throw new Error(`notApplicable(${reason ?? ""}) is not used by this pack`);
}

/** Runs a policy's resource validation(s) on one resource; returns what it reported. */
export async function validateResource(
  policy: ResourceValidationPolicy,
  r: TestResource,
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const props = unknownCheckingProxy(r.props);
  const args: ResourceValidationArgs = {
    type: r.type,
    props,
    urn: urnOf(r),
    name: r.name ?? "resource",
    opts: OPTS,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
  const validations = policy.validateResource;
  for (const validate of Array.isArray(validations) ? validations : validations ? [validations] : []) {
    await validate(args, (message, urn) => violations.push({ message, urn }));
  }
  return violations;
}

/** Runs a policy's stack validation on a stack of resources; returns what it reported. */
export async function validateStack(
  policy: StackValidationPolicy,
  resources: TestResource[],
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const policyResources: PolicyResource[] = resources.map((r) => ({
    type: r.type,
    props: unknownCheckingProxy(r.props),
    urn: urnOf(r),
    name: r.name ?? "resource",
    opts: OPTS,
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  const args: StackValidationArgs = {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
  await policy.validateStack(args, (message, urn) => violations.push({ message, urn }));
  return violations;
}

/** Both: the resource validation of every resource, then the stack validation, as a preview runs them. */
export async function validateAll(
  policy: ResourceValidationPolicy & Partial<StackValidationPolicy>,
  resources: TestResource[],
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const r of resources) {
    for (const v of await validateResource(policy, r, config)) violations.push({ ...v, urn: urnOf(r) });
  }
  if (policy.validateStack)
    violations.push(...(await validateStack(policy as StackValidationPolicy, resources, config)));
  return violations;
}

// --- What the program registers (see the brief in policy/README.md), as plain builders. ---

export const T = {
  release: "kubernetes:helm.sh/v3:Release",
  namespace: "kubernetes:core/v1:Namespace",
  gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
  gatewayPatch: "kubernetes:gateway.networking.k8s.io/v1:GatewayPatch",
  httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
  certificate: "kubernetes:cert-manager.io/v1:Certificate",
  clusterIssuer: "kubernetes:cert-manager.io/v1:ClusterIssuer",
  issuer: "kubernetes:cert-manager.io/v1:Issuer",
} as const;

export const SHARED_LABEL = { "dot-ai-gateway/shared-gateway": "cluster-gateway" };

/** The reference pattern's values (prod), as the program passes them. */
export function referenceValues(): Record<string, unknown> {
  return {
    ingress: { enabled: false },
    ai: { provider: "anthropic" },
    qdrant: { enabled: true },
    secrets: {
      name: "dot-ai-secrets",
      auth: { keyName: "auth-token" },
      anthropic: { keyName: "anthropic-api-key" },
      openai: { keyName: "openai-api-key" },
    },
    gateway: {
      name: "cluster-gateway",
      namespace: "gateway-system",
      listeners: { http: { hostname: "dot-ai.example.com" } },
      timeouts: { request: "3600s", backendRequest: "3600s" },
    },
    extraEnv: [{ name: "DOT_AI_SECRETS_REVISION", value: "0f1e2d3c4b5a" }],
    serviceAccount: { create: false, name: "dot-ai-agent" },
  };
}

/** The creation pattern's values (dev): the chart's own Gateway, HTTPS only. */
export function creationValues(): Record<string, unknown> {
  return {
    ...referenceValues(),
    gateway: {
      create: true,
      className: "eg",
      annotations: { "external-dns.alpha.kubernetes.io/hostname": "dot-ai.dev.example.com" },
      listeners: {
        http: { enabled: false },
        https: { enabled: true, hostname: "dot-ai.dev.example.com", secretName: "dot-ai-tls" },
      },
      timeouts: { request: "3600s", backendRequest: "3600s" },
    },
  };
}

export function release(values: unknown, extra: Record<string, unknown> = {}, stack = "dev"): TestResource {
  return {
    type: T.release,
    name: "dot-ai-release",
    stack,
    props: {
      name: "dot-ai",
      chart: "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai",
      version: "2.2.2",
      namespace: "dot-ai",
      createNamespace: false,
      timeout: 600,
      values,
      ...extra,
    },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}, stack = "dev"): TestResource {
  return { type: T.namespace, name: `${name}-namespace`, stack, props: { metadata: { name, labels } } };
}

export function listener(
  name: string,
  protocol: string,
  port: number,
  namespaces: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return { name, protocol, port, ...(namespaces ? { allowedRoutes: { namespaces } } : {}) };
}

/** The shared Gateway with its secure shape unless listeners are given. */
export function sharedGateway(listeners?: Record<string, unknown>[], stack = "dev"): TestResource {
  return {
    type: T.gateway,
    name: "cluster-gateway",
    stack,
    props: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "cluster-gateway", namespace: "gateway-system", annotations: {} },
      spec: {
        gatewayClassName: "eg",
        listeners: listeners ?? [
          listener("http", "HTTP", 80, { from: "Same" }),
          {
            ...listener("https", "HTTPS", 443, { from: "Selector", selector: { matchLabels: SHARED_LABEL } }),
            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "wildcard-tls" }] },
          },
        ],
      },
    },
  };
}

export function redirectRoute(namespace: string, gateway: string, gatewayNamespace: string): TestResource {
  return {
    type: T.httpRoute,
    name: `${gateway}-https-redirect`,
    props: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "https-redirect", namespace },
      spec: {
        parentRefs: [
          {
            group: "gateway.networking.k8s.io",
            kind: "Gateway",
            name: gateway,
            namespace: gatewayNamespace,
            sectionName: "http",
          },
        ],
        rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
      },
    },
  };
}

/** The creation pattern's patch adding the plain-HTTP listener to the chart's Gateway. */
export function httpListenerPatch(matchLabels: Record<string, string>): TestResource {
  return {
    type: T.gatewayPatch,
    name: "dot-ai-https-redirect-listener",
    props: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "dot-ai-http", namespace: "dot-ai" },
      spec: {
        listeners: [
          {
            ...listener("http", "HTTP", 80, { from: "Selector", selector: { matchLabels } }),
            hostname: "dot-ai.dev.example.com",
          },
        ],
      },
    },
  };
}

export function certificate(issuerRef: Record<string, unknown>, stack = "prod"): TestResource {
  return {
    type: T.certificate,
    name: "wildcard",
    stack,
    props: {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "wildcard", namespace: "gateway-system" },
      spec: { secretName: "wildcard-tls", dnsNames: ["*.example.com", "example.com"], issuerRef },
    },
  };
}

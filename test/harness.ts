/**
 * Runs the real program under Pulumi mocks and records what it asks the engine for: every
 * resource's type, name, inputs (with secret markers intact), parent, dependencies and
 * retainOnDelete, plus the stack outputs and warnings.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

import { HelmRevision, helmRevisions } from "../stacks/release-check";
import { ClusterStorage, clusterStorage } from "../stacks/storage-check";

export const PROJECT = "dot-ai-gateway";
export const REPO_ROOT = path.resolve(__dirname, "..");
/** A stand-in for the default bundle (v1.6.3): CRDs, the safe-upgrades policy and its binding. */
export const FIXTURE_CRDS = path.join(__dirname, "fixtures", "gateway-api-crds.yaml");
/** A stand-in for an older bundle (v1.2.1): CRDs only, ReferenceGrant v1beta1 only. */
export const FIXTURE_CRDS_V1_2_1 = path.join(__dirname, "fixtures", "gateway-api-crds-v1.2.1.yaml");
/** The real dot-ai chart packages, as `helm package` wrote them (see test/charts/README.md). */
export const REAL_CHARTS = {
  "0.170.0": path.join(__dirname, "charts", "dot-ai-0.170.0.tgz"),
  "1.25.0": path.join(__dirname, "charts", "dot-ai-1.25.0.tgz"),
  "2.2.2": path.join(__dirname, "charts", "dot-ai-2.2.2.tgz"),
} as const;
export type RealChartVersion = keyof typeof REAL_CHARTS;

/** A cluster whose default StorageClass provisions volumes: the bundled Qdrant's claim can bind. */
export const STORAGE_OK: ClusterStorage = {
  classes: [{ name: "standard", isDefault: true, provisioner: "rancher.io/local-path" }],
  volumes: [],
};

/** Pulumi's marker for a secret value in serialized properties. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  parent: string;
  /** Inputs with secrets unwrapped to their values. */
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary Kubernetes objects; tests narrow them
  /** Inputs exactly as serialized for the engine, secrets still wrapped. */
  rawInputs: unknown;
  dependencies: string[];
  retainOnDelete: boolean;
  /** `protect`: `pulumi destroy` refuses to delete it. */
  protect: boolean;
  /** Provider reference (`<urn>::<id>`), for custom resources. */
  provider: string;
}

export interface StackRun {
  resources: RecordedResource[];
  /** Reads of other stacks' state (StackReferences), by the referenced stack's name. */
  stackReads: string[];
  outputs: Record<string, unknown>;
  secretOutputs: Set<string>;
  warnings: string[];
  error?: Error;
}

export const MOCK_TOKEN = "mock-auth-token-0123456789abcdefghijklmnopqrstuvwx";

/** The type a `pulumi.StackReference` reads as (a read resource, with the referenced stack's name as id). */
export const STACK_REFERENCE = "pulumi:pulumi:StackReference";

class RecordingMocks implements pulumi.runtime.Mocks {
  constructor(private readonly stacks: Readonly<Record<string, StackOutputsSpec>>) {}

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    throw new Error(`unexpected invoke ${args.token}`);
  }
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    if (args.type === STACK_REFERENCE) {
      // As the engine answers a StackReference read: the stack's outputs and which are secret.
      const name = String(args.inputs.name);
      const stack = this.stacks[name];
      if (stack === undefined) throw new Error(`unknown stack "${name}"`);
      return { id: name, state: { name, outputs: stack.outputs, secretOutputNames: stack.secretOutputNames ?? [] } };
    }
    const state: Record<string, unknown> = { ...args.inputs };
    if (args.type === "random:index/randomPassword:RandomPassword") {
      state.result = `${MOCK_TOKEN}-${args.inputs.keepers?.rotation ?? ""}`;
    }
    if (args.type === "kubernetes:helm.sh/v3:Release") {
      state.status = { status: "deployed", name: args.inputs.name, namespace: args.inputs.namespace, revision: 1 };
    }
    return { id: `${args.name}-id`, state };
  }
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getRetainondelete(): boolean;
  getProtect(): boolean | undefined;
  getProvider(): string;
  getObject(): { toJavaScript(): unknown } | undefined;
}
interface ReadRequest {
  getType(): string;
  getName(): string;
  getId(): string;
}
interface Monitor {
  readResource(req: ReadRequest, callback: (err: unknown, res: unknown) => void): Promise<void>;
  registerResource(
    req: RegisterRequest,
    callback: (err: unknown, res: { getUrn(): string } | undefined) => void,
  ): Promise<void>;
}

export interface StackSpec {
  stack: string;
  /** Plain config, keys without the `dot-ai-gateway:` prefix. */
  config?: Record<string, string>;
  /** Config set with `--secret`. */
  secrets?: Record<string, string>;
  /** What the storage check reads from the "cluster" (an Error: the cluster cannot be reached). */
  storage?: ClusterStorage | Error;
  /** The Helm revisions of the release in the "cluster" (default none: a first install). */
  helmRevisions?: HelmRevision[] | Error;
  /** Other stacks a StackReference may read, by fully qualified name; any other name is unknown. */
  stacks?: Record<string, StackOutputsSpec>;
}

/** A referenced stack as the engine holds it. */
export interface StackOutputsSpec {
  outputs: Record<string, unknown>;
  secretOutputNames?: string[];
}

export async function runStack(spec: StackSpec): Promise<StackRun> {
  await pulumi.runtime.setMocks(new RecordingMocks(spec.stacks ?? {}), PROJECT, spec.stack, false);
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...spec.config, ...spec.secrets })) all[`${PROJECT}:${k}`] = v;
  pulumi.runtime.setAllConfig(
    all,
    Object.keys(spec.secrets ?? {}).map((k) => `${PROJECT}:${k}`),
  );

  const revisions = spec.helmRevisions ?? [];
  helmRevisions.read = async () => {
    if (revisions instanceof Error) throw revisions;
    return revisions;
  };
  const storage = spec.storage ?? STORAGE_OK;
  clusterStorage.read = async () => {
    if (storage instanceof Error) throw storage;
    return storage;
  };

  const resources: RecordedResource[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const stackReads: string[] = [];
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) => {
    if (req.getType() === STACK_REFERENCE) stackReads.push(req.getId());
    return read(req, callback);
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, res) => {
      if (!err && res) {
        const rawInputs = req.getObject()?.toJavaScript() ?? {};
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: res.getUrn(),
          parent: req.getParent(),
          inputs: unwrapSecrets(rawInputs) as Record<string, unknown>,
          rawInputs,
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete(),
          protect: req.getProtect() === true,
          provider: req.getProvider(),
        });
      }
      callback(err, res);
    });

  const warnings: string[] = [];
  const log = pulumi.log as { warn: (msg: string) => Promise<void> };
  const originalWarn = log.warn;
  log.warn = async (msg: string) => {
    warnings.push(msg);
  };
  const cwd = process.cwd();
  process.chdir(REPO_ROOT);
  try {
    // Fresh module state per run, as a fresh `pulumi up` would have.
    const { program } = await import("../stacks/program");
    const raw = (await program()) as unknown as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    const secretOutputs = new Set<string>();
    for (const [key, value] of Object.entries(raw)) {
      if (pulumi.Output.isInstance(value)) {
        outputs[key] = await resolve(value);
        if (await pulumi.isSecret(value)) secretOutputs.add(key);
      } else outputs[key] = value;
    }
    await settle(resources);
    return { resources, stackReads, outputs, secretOutputs, warnings };
  } catch (error) {
    await settle(resources);
    return { resources, stackReads, outputs: {}, secretOutputs: new Set(), warnings, error: error as Error };
  } finally {
    process.chdir(cwd);
    log.warn = originalWarn;
  }
}

export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply((v) => done(v)));
}

/** Waits until no more registrations arrive (children register asynchronously). */
async function settle(resources: RecordedResource[]): Promise<void> {
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isWrappedSecret(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG
  );
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== "object" || value === null) return value;
  if (isWrappedSecret(value)) return unwrapSecrets((value as { value: unknown }).value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** Helpers to find what a test is about. */
export function byType(run: StackRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function one(run: StackRun, type: string, name?: string): RecordedResource {
  const found = byType(run, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${run.resources.map((r) => `${r.type}/${r.name}`).join(", ")}`,
    );
  }
  return found[0];
}

export const TYPES = {
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  release: "kubernetes:helm.sh/v3:Release",
  crd: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
  gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
  referenceGrant: "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant",
  referenceGrantV1beta1: "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant",
  admissionPolicy: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
  admissionPolicyBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
  certificate: "kubernetes:cert-manager.io/v1:Certificate",
  password: "random:index/randomPassword:RandomPassword",
  kubernetesProvider: "pulumi:providers:kubernetes",
} as const;

/** A complete, valid configuration per stack; tests override parts of it. */
export const KEYS = {
  anthropicApiKey: "sk-ant-test-0000000000000000",
  openaiApiKey: "sk-openai-test-1111111111111111",
};

/** The stack's committed essentials, with the real 2.2.2 chart package and fixture CRDs; `config` overrides parts of it. */
function stackSpec(
  stack: string,
  hostname: string,
  config: Record<string, string>,
  secrets: Record<string, string>,
): StackSpec {
  return {
    stack,
    config: {
      hostname,
      gatewayClassName: "nginx",
      gatewayApiCrdsFile: FIXTURE_CRDS,
      chart: REAL_CHARTS["2.2.2"],
      ...config,
    },
    secrets,
  };
}

export function prodSpec(config: Record<string, string> = {}, secrets: Record<string, string> = KEYS): StackSpec {
  return stackSpec("prod", "dot-ai.example.com", config, secrets);
}

/** The platform stack the app specs reference, as a local backend names it. */
export const PLATFORM_STACK = "organization/dot-ai-gateway/platform";

/** A platform stack: the shared Gateway only (no hostname, chart or API keys). */
export function platformSpec(config: Record<string, string> = {}): StackSpec {
  return {
    stack: "platform",
    config: {
      role: "platform",
      domain: "example.com",
      gatewayClassName: "nginx",
      gatewayApiCrdsFile: FIXTURE_CRDS,
      ...config,
    },
  };
}

/** What a deployed `platformSpec()` stack exports (the contract app stacks read). */
export function platformOutputs(overrides: Record<string, unknown> = {}): StackOutputsSpec {
  return {
    outputs: {
      role: "platform",
      platformContract: 1,
      mode: "reference",
      gatewayName: "cluster-gateway",
      gatewayNamespace: "gateway-system",
      gatewayAddress: "10.0.0.1",
      allowedRoutes: "Selector",
      routeNamespaceLabels: { "dot-ai-gateway/shared-gateway": "cluster-gateway" },
      https: true,
      certificateDomain: "example.com",
      gatewayApiVersion: "v1.6.3",
      protectGateway: true,
      ...overrides,
    },
  };
}

/** An app stack of team `team` on the platform stack (whose outputs `platform` gives; null: no such stack). */
export function appSpec(
  team: string,
  config: Record<string, string> = {},
  platform: StackOutputsSpec | null = platformOutputs(),
  secrets: Record<string, string> = KEYS,
): StackSpec {
  return {
    stack: `app-${team}`,
    config: {
      role: "app",
      platformStack: PLATFORM_STACK,
      hostname: `${team}.example.com`,
      namespace: `dot-ai-${team}`,
      releaseName: `dot-ai-${team}`,
      chart: REAL_CHARTS["2.2.2"],
      ...config,
    },
    secrets,
    stacks: platform ? { [PLATFORM_STACK]: platform } : {},
  };
}

export function devSpec(config: Record<string, string> = {}, secrets: Record<string, string> = KEYS): StackSpec {
  return stackSpec("dev", "dot-ai.dev.example.com", config, secrets);
}

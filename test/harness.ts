/**
 * Runs the real program under Pulumi mocks and records what it asks the engine for: every
 * resource's type, name, inputs (with secret markers intact), parent, dependencies and options
 * (retainOnDelete, protect, import, ignoreChanges, customTimeouts), plus the stack outputs and warnings.
 *
 * What this takes from the Pulumi SDK beyond its documented testing API (`setMocks`, `Mocks`), and why:
 *
 * - `pulumi.runtime.getMonitor()` after `setMocks` returns the SDK's MockMonitor. `Mocks.newResource`
 *   sees only a resource's type, name, inputs (secrets already unwrapped), provider and id; the tests
 *   also need its parent, dependsOn, retainOnDelete, protect, ignoreChanges, customTimeouts and which
 *   inputs are secret. So the harness wraps the monitor's `registerResource(request, callback)` and
 *   `readResource(request, callback)`, and reads the request with the getters of the engine's
 *   protobuf messages (`RegisterResourceRequest`: getType, getName, getParent, getDependenciesList,
 *   getRetainondelete, getProtect, getProvider, getImportid, getIgnorechangesList, getCustomtimeouts
 *   (getCreate, getUpdate, getDelete), getObject().toJavaScript(); `ReadResourceRequest`: getType,
 *   getId; the response's getUrn). This works because the SDK looks the method up on the monitor
 *   object at every call.
 * - Secrets in those serialized inputs are objects marked with `pulumi.runtime.specialSigKey` set to
 *   `pulumi.runtime.specialSecretSig` (exported, but an encoding detail of the engine protocol).
 * - A `pulumi.StackReference` is a read of `pulumi:pulumi:StackReference` whose state the mocks
 *   answer with `outputs` and `secretOutputNames`, the fields the SDK's StackReference reads.
 * - `pulumi.log.warn` is replaced for the run: under mocks there is no engine, so warnings would
 *   only reach the console. This relies on the SDK's compiled CommonJS `log` module having writable
 *   exports that the program's `pulumi.log.warn(...)` calls look up at call time.
 *
 * `checkSdkSeams` and every recorded request check these, so an SDK upgrade that changes one makes
 * `runStack` throw an error naming it (test/harness.test.ts exercises each on its own) instead of
 * tests failing on missing data far from the cause. The protobuf request types are imported as
 * types, so `npm run typecheck` also fails if a getter is renamed.
 *
 * The project's own seams are set per run too: the reads of the "cluster" made before anything is
 * registered (storage, Helm revisions, the ClusterRole named after the release, Gateway API CRDs)
 * answer from the spec, so no test file
 * depends on another having stubbed them and none reads the developer's real cluster. (Given a
 * deployed Helm revision with its manifest, the program also reads the chart's objects:
 * `chartObjects` in cluster/chart-objects.ts, which the tests that give one stub themselves.)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type {
  ReadResourceRequest,
  RegisterResourceRequest,
  RegisterResourceResponse,
} from "@pulumi/pulumi/proto/resource_pb";

import type { ManifestObject } from "../components/crds";
import { parseConfig } from "../stacks/config";
import type { StackOutputs } from "../stacks/outputs";
import { bundleChartStore } from "../stacks/bundle-chart";
import { ClusterGatewayApi, clusterGatewayApi } from "../cluster/crd-precheck";
import { HelmOwner, HelmRevision, helmRevisions, releaseClusterRole } from "../cluster/release-check";
import { releaseSecret } from "../cluster/migration-check";
import { ClusterStorage, clusterStorage } from "../cluster/storage-check";

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

/** A cluster without Gateway API: nothing to leave alone, the program installs its bundle. */
export const NO_GATEWAY_API: ClusterGatewayApi = { crds: [], served: [] };

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
  /** The `import` option: the ID of an existing object to adopt, or "" for none. */
  importId: string;
  /** The `ignoreChanges` option: input paths whose changes the engine does not act on. */
  ignoreChanges: string[];
  /** The `customTimeouts` option, as given; "" where unset. */
  customTimeouts: { create: string; update: string; delete: string };
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

/** The MockMonitor methods the harness wraps (see the top of this file). */
interface Monitor {
  readResource(req: ReadResourceRequest, callback: (err: unknown, res: unknown) => void): Promise<void>;
  registerResource(
    req: RegisterResourceRequest,
    callback: (err: unknown, res: RegisterResourceResponse | undefined) => void,
  ): Promise<void>;
}

const REGISTER_GETTERS = [
  "getType",
  "getName",
  "getParent",
  "getDependenciesList",
  "getRetainondelete",
  "getProtect",
  "getProvider",
  "getObject",
  "getImportid",
  "getIgnorechangesList",
  "getCustomtimeouts",
] as const;
const READ_GETTERS = ["getType", "getId"] as const;

function customTimeouts(req: RegisterResourceRequest): RecordedResource["customTimeouts"] {
  const t = req.getCustomtimeouts();
  return { create: t?.getCreate() ?? "", update: t?.getUpdate() ?? "", delete: t?.getDelete() ?? "" };
}

/** What changed in the SDK, in words, or undefined while everything the harness uses is there. */
function missingGetters(what: string, obj: unknown, getters: readonly string[]): string | undefined {
  const missing = getters.filter((g) => typeof (obj as Record<string, unknown> | undefined)?.[g] !== "function");
  return missing.length === 0 ? undefined : `${what} has no ${missing.map((g) => `${g}()`).join(", ")}`;
}

/** Thrown when the SDK no longer provides what the harness takes from it. */
export class SdkSeamError extends Error {
  constructor(problems: readonly string[]) {
    super(
      `test/harness.ts can no longer record the program: the Pulumi SDK (@pulumi/pulumi ${sdkVersion()}) changed ` +
        `what it relies on:\n  - ${problems.join("\n  - ")}\n` +
        `See "What this takes from the Pulumi SDK" at the top of test/harness.ts.`,
    );
  }
}

function sdkVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed version, for the message
  return (require("@pulumi/pulumi/package.json") as { version: string }).version;
}

/** The seams that can be checked before a program runs (the request getters are checked per request). */
export function checkSdkSeams(monitor: unknown): string[] {
  const problems: string[] = [];
  for (const method of ["registerResource", "readResource"]) {
    if (typeof (monitor as Record<string, unknown> | undefined)?.[method] !== "function") {
      problems.push(`pulumi.runtime.getMonitor() under setMocks has no ${method}(request, callback)`);
    }
  }
  const warn = Object.getOwnPropertyDescriptor(pulumi.log, "warn");
  if (!warn || !(warn.writable || warn.set)) problems.push("pulumi.log.warn can no longer be replaced (not writable)");
  if (typeof pulumi.runtime.specialSigKey !== "string" || typeof pulumi.runtime.specialSecretSig !== "string") {
    problems.push("pulumi.runtime.specialSigKey / specialSecretSig (the secret marker) are gone");
  }
  return problems;
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
  /**
   * The Helm owner of the ClusterRole the chart names after the release, in the "cluster" (default
   * none: no such ClusterRole; an Error: it cannot be read).
   */
  releaseClusterRole?: HelmOwner | Error;
  /** The Gateway API the "cluster" already has (default `NO_GATEWAY_API`; an Error: it cannot be read). */
  gatewayApi?: ClusterGatewayApi | Error;
  /**
   * The data of the Secret an adopted release's pods read (`migrateFrom`), in the "cluster"
   * (default none: no such Secret; an Error: it cannot be read).
   */
  releaseSecret?: Record<string, string> | Error;
  /** Other stacks a StackReference may read, by fully qualified name; any other name is unknown. */
  stacks?: Record<string, StackOutputsSpec>;
}

/** A referenced stack as the engine holds it. */
export interface StackOutputsSpec {
  outputs: Record<string, unknown>;
  secretOutputNames?: string[];
}

/** Runs the project's program (stacks/program.ts) as `pulumi up` would for `spec`. */
export async function runStack(spec: StackSpec): Promise<StackRun> {
  // Loaded on first use, after setMocks; Node caches the module, so later runs reuse it.
  return runProgram(spec, async () => (await import("../stacks/program")).program());
}

/** Runs `program` under the mocks, with `spec`'s config and "cluster", and records what it registers. */
export async function runProgram(
  spec: StackSpec,
  program: () => Promise<StackOutputs | Record<string, unknown>>,
): Promise<StackRun> {
  await pulumi.runtime.setMocks(new RecordingMocks(spec.stacks ?? {}), PROJECT, spec.stack, false, "organization");
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...spec.config, ...spec.secrets })) all[`${PROJECT}:${k}`] = v;
  pulumi.runtime.setAllConfig(
    all,
    Object.keys(spec.secrets ?? {}).map((k) => `${PROJECT}:${k}`),
  );

  bundleChartStore.root = CHART_SCRATCH;
  helmRevisions.read = answer(spec.helmRevisions ?? []);
  releaseClusterRole.read = answer<HelmOwner | undefined>(spec.releaseClusterRole);
  clusterStorage.read = answer(spec.storage ?? STORAGE_OK);
  clusterGatewayApi.read = answer(spec.gatewayApi ?? NO_GATEWAY_API);
  releaseSecret.read = answer<Record<string, string> | null>(spec.releaseSecret ?? null);

  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const drift = checkSdkSeams(monitor);
  if (drift.length > 0) throw new SdkSeamError(drift);

  const resources: RecordedResource[] = [];
  const stackReads: string[] = [];
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) => {
    const missing = missingGetters("ReadResourceRequest", req, READ_GETTERS);
    if (missing) drift.push(missing);
    else if (req.getType() === STACK_REFERENCE) stackReads.push(req.getId());
    return read(req, callback);
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, res) => {
      const missing =
        missingGetters("RegisterResourceRequest", req, REGISTER_GETTERS) ??
        (err ? undefined : missingGetters("RegisterResourceResponse", res, ["getUrn"]));
      if (missing) drift.push(missing);
      else if (!err && res) {
        const rawInputs = req.getObject()?.toJavaScript() ?? {};
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: res.getUrn(),
          parent: req.getParent(),
          inputs: unwrapSecrets(rawInputs) as Record<string, unknown>,
          rawInputs,
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete() === true,
          protect: req.getProtect() === true,
          provider: req.getProvider(),
          importId: req.getImportid(),
          ignoreChanges: req.getIgnorechangesList(),
          customTimeouts: customTimeouts(req),
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
  let run: StackRun;
  try {
    const raw = (await program()) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    const secretOutputs = new Set<string>();
    for (const [key, value] of Object.entries(raw)) {
      if (pulumi.Output.isInstance(value)) {
        outputs[key] = await resolve(value);
        if (await pulumi.isSecret(value)) secretOutputs.add(key);
      } else outputs[key] = value;
    }
    await settle(resources);
    run = { resources, stackReads, outputs, secretOutputs, warnings };
  } catch (error) {
    await settle(resources);
    run = { resources, stackReads, outputs: {}, secretOutputs: new Set(), warnings, error: error as Error };
  } finally {
    process.chdir(cwd);
    log.warn = originalWarn;
  }
  if (drift.length > 0) throw new SdkSeamError([...new Set(drift)]);
  return run;
}

/** Where the program writes the Gateway API bundle's chart under test: not the project's node_modules. */
const CHART_SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), "dot-ai-gateway-test-charts-"));
process.on("exit", () => fs.rmSync(CHART_SCRATCH, { recursive: true, force: true }));

/** A cluster read that answers `found`, or fails with it when it is an Error. */
function answer<T>(found: T | Error): () => Promise<T> {
  return async () => {
    if (found instanceof Error) throw found;
    return found;
  };
}

export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply((v) => done(v)));
}

/** Waits until no registration has arrived for 50 ms (children register asynchronously). */
async function settle(resources: RecordedResource[]): Promise<void> {
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isWrappedSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== "object" || value === null) return value;
  if (isWrappedSecret(value)) return unwrapSecrets((value as { value: unknown }).value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** The name of dot-ai's Helm release resource (the other Release holds the Gateway API bundle). */
export const APP_RELEASE = "dot-ai-release";

/** The name of the Helm release resource that holds the Gateway API bundle's CRDs. */
export const BUNDLE_RELEASE_RESOURCE = "gateway-api-crds-release";

/** The bundle's release, and the objects its generated chart holds (as Helm will apply them). */
export function bundleRelease(run: StackRun): { release: RecordedResource; objects: ManifestObject[] } {
  const release = one(run, TYPES.release, BUNDLE_RELEASE_RESOURCE);
  const chart = String(release.inputs.chart);
  const templates = path.join(chart, "templates");
  const objects = fs
    .readdirSync(templates)
    .sort()
    .map(
      (f) =>
        JSON.parse(fs.readFileSync(path.join(templates, f), "utf8").replaceAll('{{ "{{" }}', "{{")) as ManifestObject,
    );
  return { release, objects };
}

/** One annotation of a manifest object. */
export function annotation(o: ManifestObject, key: string): string | undefined {
  return (o.metadata.annotations as Record<string, string> | undefined)?.[key];
}

/** The names of the CRDs the bundle's chart installs. */
export function bundleCrdNames(run: StackRun): string[] {
  return bundleRelease(run)
    .objects.filter((o) => o.kind === "CustomResourceDefinition")
    .map((o) => o.metadata.name)
    .sort();
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
  /** Helm's ownership set on a CRD the bundle's release takes over. */
  crdPatch: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinitionPatch",
  gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
  referenceGrant: "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant",
  httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
  /**
   * Server-side apply patches of the chart-created Gateway: the wait (annotations only) and the
   * port-80 listener that only redirects.
   */
  gatewayPatch: "kubernetes:gateway.networking.k8s.io/v1:GatewayPatch",
  referenceGrantV1beta1: "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant",
  admissionPolicy: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
  admissionPolicyBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
  certificate: "kubernetes:cert-manager.io/v1:Certificate",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
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
      plaintextHttp: false,
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

/** The stack's configuration as the program validates it, without running the program. */
export function parseSpec(spec: StackSpec): ReturnType<typeof parseConfig> {
  return parseConfig({
    stack: spec.stack,
    values: { ...spec.config, ...spec.secrets },
    secretKeys: new Set(Object.keys(spec.secrets ?? {})),
    baseDir: REPO_ROOT,
  });
}

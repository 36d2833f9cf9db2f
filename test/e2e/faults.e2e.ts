/**
 * Faults an operator meets on real clusters, on the real engine, providers and controllers: Gateway
 * API CRDs someone else installed (newer, or the same release applied by another field manager, with
 * and without the safe-upgrades admission policy), drift, two `pulumi up` at once, a `pulumi up`
 * killed halfway, a token rotation watched step by step, and the API server lost during an update.
 * Each must end with the stack converged, the token kept or rotated as asked, and the user told.
 *
 * One creation-pattern stack, `faults`, in its own namespace is deployed once and then hurt case
 * after case; it is destroyed at the end. docs/faults.md has the outcomes and figures.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { CHART_VERSIONS } from "./dot-ai";
import {
  KubeObject,
  chartPackage,
  eventually,
  exists,
  kubectl,
  kubectlJson,
  pulumi,
  pulumiUp,
  setConfig,
  timeSuite,
} from "./tools";

const NEWEST_CHART = CHART_VERSIONS[CHART_VERSIONS.length - 1];
const STACK = "faults";
const NS = "faults";
const REF_STACK = "faults-ref";
const REF_NS = { app: "faults-ref", gateway: "faults-ref-gateway" };
const GROUP = "gateway.networking.k8s.io";
const BUNDLE_VERSION = `${GROUP}/bundle-version`;
const POLICY = `safe-upgrades.${GROUP}`;

/** The Gateway API bundle the program installs (the local toolchain's copy of the release). */
function bundleFile(): string {
  const file = process.env.GATEWAY_API_CRDS_FILE;
  if (!file) throw new Error("GATEWAY_API_CRDS_FILE is not set (run through test/e2e/run.sh)");
  return file;
}

function bundleRelease(): string {
  const m = /gateway\.networking\.k8s\.io\/bundle-version: (v\S+)/.exec(fs.readFileSync(bundleFile(), "utf8"));
  if (!m) throw new Error(`no bundle-version in ${bundleFile()}`);
  return m[1];
}

/** A copy of the bundle that says it is release `version` (as a newer release would). */
function bundleAs(version: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "faults-bundle-")), "standard-install.yaml");
  const text = fs.readFileSync(bundleFile(), "utf8").replace(/(bundle-version: )v\S+/g, `$1${version}`);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * The bundle's objects as `kubectl apply --server-side -f <file>` leaves them on a cluster where
 * nobody else applied them: kubectl their only field manager. The objects are not deleted first
 * (deleting the CRDs would wait forever on the finalizer Envoy Gateway puts on its GatewayClass):
 * their recorded field managers are cleared, then kubectl applies.
 */
function applyAsKubectlOnly(file: string): void {
  forgetManagers();
  kubectl(["apply", "--server-side", "--force-conflicts", "-f", file]);
}

/** Clears the field managers of the bundle's objects: fields nobody owns, as on a cluster before SSA. */
function forgetManagers(): void {
  for (const object of gatewayApiObjects()) {
    if (!exists(object)) continue;
    kubectl(["patch", ...object, "--type=merge", "-p", '{"metadata":{"managedFields":[{}]}}']);
  }
}

/** The bundle's objects as `kubectl get` arguments. */
function gatewayApiObjects(): string[][] {
  return [
    ...[...fs.readFileSync(bundleFile(), "utf8").matchAll(/^ {2}name: "?([a-z.-]+\.gateway\.networking\.k8s\.io)"?$/gm)]
      .map((m) => m[1])
      .filter((name) => name !== POLICY)
      .map((name) => ["crd", name]),
    ["validatingadmissionpolicy", POLICY],
    ["validatingadmissionpolicybinding", POLICY],
  ];
}

/** What the cluster holds of the bundle's CRDs: name -> bundle-version and field managers. */
function installedCrds(): Map<string, { version: string; managers: string[] }> {
  const list = kubectlJson<{ items: KubeObject[] }>(["get", "crd", "--show-managed-fields"]);
  return new Map(
    list.items
      .filter((c) => c.spec.group === GROUP)
      .map((c) => [
        c.metadata.name,
        {
          version: c.metadata.annotations?.[BUNDLE_VERSION],
          managers: (c.metadata.managedFields ?? [])
            .filter((f: KubeObject) => f.subresource !== "status")
            .map((f: KubeObject) => f.manager),
        },
      ]),
  );
}

function stateTypes(stack: string): string[] {
  const state = JSON.parse(pulumi(stack, ["stack", "export"]).stdout);
  return (state.deployment?.resources ?? [])
    .map((r: KubeObject) => r.type as string)
    .filter((t: string) => t !== "pulumi:pulumi:Stack");
}

/** A fresh stack of its own, set up as toolchain/env.sh sets up local stacks. */
function freshStack(stack: string, settings: Record<string, string>): void {
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  pulumi(stack, ["stack", "init"]);
  setConfig(stack, { chart: chartPackage(NEWEST_CHART), gatewayApiCrdsFile: bundleFile(), ...settings });
  setConfig(stack, { anthropicApiKey: "local-anthropic-key-not-real" }, true);
}

function timed<T>(what: string, f: () => T): T {
  const t0 = Date.now();
  try {
    return f();
  } finally {
    console.log(`      [e2e time] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

function output(res: { stdout: string; stderr: string }): string {
  return res.stdout + res.stderr;
}

describe("faults", () => {
  timeSuite("faults");
  const release = bundleRelease();
  const newer = "v1.99.0";

  after(async () => {
    for (const stack of [STACK, REF_STACK]) {
      pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"], { allowFailure: true });
      pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
    }
    for (const n of [NS, REF_NS.app, REF_NS.gateway]) {
      await eventually(`namespace ${n} to be deleted`, () => !exists(["namespace", n]));
    }
    // The next suites find the bundle of the release they install, owned by nobody.
    kubectl(["apply", "--server-side", "--force-conflicts", "-f", bundleFile()]);
    forgetManagers();
  });

  describe("Gateway API CRDs someone else installed", () => {
    it(`the same release (${release}) applied with kubectl --server-side, with the policy: up leaves them and deploys, no field conflict`, () => {
      applyAsKubectlOnly(bundleFile());
      freshStack(STACK, {
        mode: "creation",
        hostname: "dot-ai.faults.example.com",
        namespace: NS,
        gatewayClassName: "eg",
      });
      const res = timed("up over kubectl's CRDs", () => pulumiUp(STACK, [], { allowFailure: true }));
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      assert.doesNotMatch(output(res), /field conflict/i);
      assert.match(
        output(res),
        new RegExp(`Gateway API ${release.replace(/\./g, "\\.")} CRDs managed by 'kubectl', not by this program`),
      );
      for (const [name, crd] of installedCrds()) {
        assert.strictEqual(crd.version, release, name);
        assert.deepStrictEqual(crd.managers, ["kubectl"], `${name} is still kubectl's alone`);
      }
      const policy = kubectlJson(["get", "validatingadmissionpolicy", POLICY, "--show-managed-fields"]);
      assert.ok(!policy.metadata.managedFields.some((f: KubeObject) => /^pulumi/.test(f.manager)));
      assert.ok(!stateTypes(STACK).some((t) => /CustomResourceDefinition|ValidatingAdmissionPolicy/.test(t)));
      assert.ok(exists(["httproute", "dot-ai", "-n", NS]), "dot-ai deployed with their CRDs");
    });

    it("the same release without the policy: preview leaves them too", () => {
      kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", POLICY]);
      const res = timed("preview, same release, no policy", () =>
        pulumi(STACK, ["preview", "--suppress-progress", "--expect-no-changes"], { allowFailure: true }),
      );
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      assert.match(output(res), /managed by 'kubectl', not by this program/);
    });

    it(`a newer bundle (${newer}) without the policy: never downgraded, the warning names both releases`, () => {
      applyAsKubectlOnly(bundleAs(newer));
      kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", POLICY]);
      const res = timed("up over a newer bundle, no policy", () => pulumiUp(STACK, [], { allowFailure: true }));
      assert.strictEqual(res.status, 0, output(res).slice(-3000));
      const out = output(res);
      assert.match(
        out,
        new RegExp(`The cluster has Gateway API ${newer}, newer than dot-ai-gateway:gatewayApiVersion`),
      );
      assert.match(out, /nothing on this cluster would have stopped that downgrade/);
      for (const [name, crd] of installedCrds()) assert.strictEqual(crd.version, newer, name);
    });

    it(`a newer bundle with its policy: preview and up leave it, no admission error`, () => {
      applyAsKubectlOnly(bundleAs(newer));
      for (const command of [
        ["preview", "--suppress-progress"],
        ["up", "--yes", "--skip-preview", "--suppress-progress"],
      ]) {
        const res = timed(`${command[0]} over a newer bundle with its policy`, () =>
          pulumi(STACK, command, { allowFailure: true }),
        );
        assert.strictEqual(res.status, 0, output(res).slice(-3000));
        assert.match(output(res), new RegExp(`safe-upgrades admission policy \\(${newer}\\) would refuse`));
        assert.doesNotMatch(output(res), /prohibited/);
      }
      for (const [name, crd] of installedCrds()) assert.strictEqual(crd.version, newer, name);
    });

    it("a newer bundle without a kind the stack creates: refused within seconds, naming the fix, nothing created", () => {
      kubectl(["delete", "crd", `referencegrants.${GROUP}`, "--wait=true"]);
      freshStack(REF_STACK, {
        mode: "reference",
        hostname: "dot-ai.faults-ref.example.com",
        namespace: REF_NS.app,
        gatewayNamespace: REF_NS.gateway,
        gatewayClassName: "eg",
        https: "false",
      });
      for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
        const t0 = Date.now();
        const res = pulumi(REF_STACK, [...command, "--suppress-progress"], { allowFailure: true });
        const seconds = (Date.now() - t0) / 1000;
        console.log(`      [e2e time] ${command[0]} refused (no ReferenceGrant kind): ${seconds.toFixed(1)} s`);
        assert.notStrictEqual(res.status, 0);
        const out = output(res);
        assert.match(out, /do not serve ReferenceGrant gateway\.networking\.k8s\.io\/v1/);
        assert.match(out, new RegExp(`Fix: kubectl apply --server-side -f \\S+/${newer}/standard-install\\.yaml`));
        assert.ok(seconds < 60, `${command[0]} took ${seconds} s`);
      }
      assert.ok(!exists(["namespace", REF_NS.app]));
      assert.deepStrictEqual(stateTypes(REF_STACK), []);
    });
  });
});

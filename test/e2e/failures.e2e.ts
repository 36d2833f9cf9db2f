/**
 * What a user sees when something is missing, on the real engine: a bad configuration, a Gateway
 * no controller judges, and a cluster where the bundled Qdrant cannot get a volume. Each must fail
 * with the program's own message, quickly, naming what to check or set.
 */
import * as assert from "assert";

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

const NEWEST = CHART_VERSIONS[CHART_VERSIONS.length - 1];
const STORAGE_CLASS = process.env.STORAGE_CLASS_NAME ?? "local";
const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** A fresh stack of its own (its own namespaces), set up as toolchain/env.sh sets up local stacks. */
function freshStack(stack: string, settings: Record<string, string>): void {
  // An earlier run's stack (and its config) is dropped; its resources were destroyed.
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  pulumi(stack, ["stack", "init"]);
  setConfig(stack, {
    chart: chartPackage(NEWEST),
    gatewayApiCrdsFile: process.env.GATEWAY_API_CRDS_FILE ?? "",
    ...settings,
  });
  setConfig(stack, { anthropicApiKey: "local-anthropic-key-not-real" }, true);
}

function resourcesInState(stack: string): KubeObject[] {
  const state = JSON.parse(pulumi(stack, ["stack", "export"]).stdout);
  return (state.deployment?.resources ?? []).filter((r: KubeObject) => r.type !== "pulumi:pulumi:Stack");
}

describe("failures on a real engine", () => {
  timeSuite("failures");

  it("a bad configuration fails preview and up with the program's message and creates nothing", () => {
    const stack = "broken";
    pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
    pulumi(stack, ["stack", "init"]);
    setConfig(stack, { mode: "creation", hostname: "Not_A_Host", namespace: "broken-e2e", gatewayClassName: "nginx" });
    for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
      const res = pulumi(stack, [...command, "--suppress-progress"], { allowFailure: true });
      assert.notStrictEqual(res.status, 0);
      const output = res.stdout + res.stderr;
      assert.match(output, /Invalid configuration \(2 problems\); nothing was deployed/);
      assert.match(output, /dot-ai-gateway:hostname 'Not_A_Host'/);
      assert.match(output, /pulumi config set --secret dot-ai-gateway:anthropicApiKey/);
    }
    assert.ok(!exists(["namespace", "broken-e2e"]));
    assert.deepStrictEqual(resourcesInState(stack), []);
  });

  describe("a cluster whose default StorageClass is gone", () => {
    const stack = "nostorage";
    before(() => {
      kubectl(["annotate", "storageclass", STORAGE_CLASS, `${DEFAULT_CLASS_ANNOTATION}-`]);
      freshStack(stack, {
        mode: "creation",
        hostname: "dot-ai.nostorage.example.com",
        namespace: "nostorage-e2e",
        gatewayClassName: "eg",
      });
    });
    after(() => {
      kubectl(["annotate", "--overwrite", "storageclass", STORAGE_CLASS, `${DEFAULT_CLASS_ANNOTATION}=true`]);
    });

    it("fails preview and up within seconds, naming the fix, and creates nothing", () => {
      for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
        const t0 = Date.now();
        const res = pulumi(stack, [...command, "--suppress-progress"], { allowFailure: true });
        const seconds = (Date.now() - t0) / 1000;
        assert.notStrictEqual(res.status, 0, `${command[0]} failed`);
        const output = res.stdout + res.stderr;
        assert.match(output, /The bundled Qdrant would never start/);
        assert.match(output, /no default StorageClass/);
        assert.match(output, new RegExp(`kubectl patch storageclass ${STORAGE_CLASS} `));
        assert.match(output, /pulumi config set dot-ai-gateway:qdrantUrl/);
        // The engine and the program's start take most of this; Helm's timeout would be 600 s.
        assert.ok(seconds < 60, `${command[0]} took ${seconds} s`);
        console.log(`      [e2e time] ${command[0]} without a default StorageClass failed in ${seconds.toFixed(1)} s`);
      }
      assert.ok(!exists(["namespace", "nostorage-e2e"]));
      assert.deepStrictEqual(resourcesInState(stack), []);
    });
  });

  for (const pattern of ["reference", "creation"] as const) {
    // The shared Gateway of the reference pattern, or the one the chart creates (dev).
    const stack = `absent-${pattern}`;
    const ns = {
      app: `absent-${pattern}-app`,
      ...(pattern === "reference" ? { gateway: `absent-${pattern}-gateway` } : {}),
    };
    const gateway =
      pattern === "reference"
        ? { name: "cluster-gateway", namespace: `absent-${pattern}-gateway` }
        : { name: "dot-ai-http", namespace: ns.app };
    const which = pattern === "reference" ? "a shared Gateway" : "the chart's Gateway (creation pattern)";

    describe(`${which} whose GatewayClass no controller serves`, () => {
      before(() => {
        freshStack(stack, {
          mode: pattern,
          hostname: `dot-ai.${stack}.example.com`,
          namespace: ns.app,
          ...(ns.gateway ? { gatewayNamespace: ns.gateway } : {}),
          gatewayClassName: "absent",
          https: "false",
          allowPlaintextHttp: "true",
          waitTimeout: "15s",
        });
      });
      after(async () => {
        pulumi(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
        for (const n of Object.values(ns)) {
          await eventually(`namespace ${n} to be deleted`, () => !exists(["namespace", n]));
        }
      });

      it("fails `pulumi up` after waitTimeout, saying what it waited for and what to check", () => {
        const t0 = Date.now();
        const res = pulumiUp(stack, [], { allowFailure: true });
        const seconds = (Date.now() - t0) / 1000;
        assert.notStrictEqual(res.status, 0);
        const output = res.stdout + res.stderr;
        // The program's explanation, next to the provider's bare "timed out waiting for the condition".
        assert.ok(
          output.includes(
            `Waiting (up to 15s, dot-ai-gateway:waitTimeout) for Gateway ${gateway.namespace}/${gateway.name} to be Programmed`,
          ),
          output,
        );
        assert.match(output, /Only the Gateway controller of GatewayClass 'absent' sets that/);
        assert.match(output, /kubectl get gatewayclass absent/);
        assert.match(output, /pulumi config set dot-ai-gateway:waitForGateway false/);
        assert.ok(seconds < 120, `up took ${seconds} s with waitTimeout 15s`);
        console.log(
          `      [e2e time] ${pattern}: up with GatewayClass 'absent' and waitTimeout 15s failed in ${seconds.toFixed(1)} s`,
        );
        const gw = kubectlJson(["get", "gateway", gateway.name, "-n", gateway.namespace]);
        assert.ok(!gw.status?.conditions?.some((c: KubeObject) => c.status === "True"), "no controller judged it");
      });

      it("deploys with waitForGateway=false, the documented escape", () => {
        setConfig(stack, { waitForGateway: "false" });
        pulumiUp(stack);
        assert.ok(exists(["httproute", "dot-ai", "-n", ns.app]));
      });
    });
  }
});

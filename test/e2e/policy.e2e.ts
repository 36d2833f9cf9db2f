/**
 * The policy pack (policy/, see policy/README.md) on the real engine, started the way the local
 * toolchain can start it: the executable `policy/analyzer` given to `pulumi preview --policy-pack`
 * (the toolchain's Node.js language host cannot start a pack directory). Previews only, on stacks
 * of this suite's own: nothing is deployed, and the stacks are removed afterwards.
 *
 * - A dev-like and a prod-like stack, with the committed settings of Pulumi.dev.yaml and
 *   Pulumi.prod.yaml, pass: no mandatory violation, exit code 0.
 * - `allowPlaintextHttp` set in the program's config, without the pack's own opt-in, fails the
 *   preview naming `mcp-no-plaintext-http`; the pack's opt-in (`--policy-pack-config`) lets it pass.
 * - `allowedRoutes All` on a prod stack fails naming `prod-gateway-no-all-namespaces`.
 *
 * On a new stack the release's values are not known at preview (they carry a digest of the token
 * the stack has not generated yet), so what is judged here is what preview can see: the Gateways,
 * Namespaces, routes and Certificates. The release's own checks run again, with known values, at
 * `pulumi up`; the unit tests (test/policy) cover them.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";

import { CHART_VERSIONS } from "./dot-ai";
import { GATEWAY_CLASS, Result, chartPackage, pulumi, setConfig, timeSuite } from "./tools";

const REPO = path.resolve(__dirname, "..", "..");
const PACK = path.join(REPO, "policy", "analyzer");
const PACK_NAME = "dot-ai-gateway-guardrails";
const NEWEST = CHART_VERSIONS[CHART_VERSIONS.length - 1];

/** The committed non-secret settings of Pulumi.<stack>.yaml, without the project prefix. */
function committedSettings(stack: "dev" | "prod"): Record<string, string> {
  const file = load(fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8"), { schema: CORE_SCHEMA }) as {
    config?: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(file.config ?? {})
      .filter(([key]) => key.startsWith("dot-ai-gateway:"))
      .map(([key, value]) => [key.slice("dot-ai-gateway:".length), String(value)]),
  );
}

/**
 * A fresh stack of this suite's own: the committed settings of `like`, the local cluster's, and
 * namespaces and a release name of its own so that nothing another suite left can collide.
 */
function freshStack(stack: string, like: "dev" | "prod", settings: Record<string, string> = {}): void {
  pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
  pulumi(stack, ["stack", "init"]);
  setConfig(stack, {
    ...committedSettings(like),
    chart: chartPackage(NEWEST),
    gatewayApiCrdsFile: process.env.GATEWAY_API_CRDS_FILE ?? "",
    gatewayClassName: GATEWAY_CLASS,
    namespace: `${stack}-app`,
    releaseName: stack,
    ...(like === "prod" ? { gatewayNamespace: `${stack}-gateway` } : {}),
    ...settings,
  });
  setConfig(stack, { anthropicApiKey: "local-anthropic-key-not-real" }, true);
}

const configFiles: string[] = [];

/** A --policy-pack-config file: the prod-only policies told which stacks are prod, plus `extra`. */
function packConfig(prodStacks: string[], extra: Record<string, object> = {}): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dot-ai-policy-")), "policy-config.json");
  const prod = { prodStacks };
  fs.writeFileSync(
    file,
    JSON.stringify({ "prod-gateway-no-all-namespaces": prod, "prod-certificate-real-issuer": prod, ...extra }, null, 2),
  );
  configFiles.push(file);
  return file;
}

function previewWithPack(stack: string, config: string): Result {
  return pulumi(stack, ["preview", "--suppress-progress", "--policy-pack", PACK, "--policy-pack-config", config], {
    allowFailure: true,
  });
}

function output(res: Result): string {
  return `${res.stdout}\n${res.stderr}`;
}

describe("policy pack on a real engine (pulumi preview --policy-pack policy/analyzer)", () => {
  timeSuite("policy pack");
  const stacks = {
    dev: "policy-dev",
    prod: "policy-prod",
    plaintext: "policy-plaintext",
    allRoutes: "policy-all-routes",
  };
  const prodStacks = [stacks.prod, stacks.plaintext, stacks.allRoutes];

  before(() => {
    assert.ok(fs.statSync(PACK).mode & 0o111, `${PACK} is executable`);
    freshStack(stacks.dev, "dev");
    freshStack(stacks.prod, "prod");
    freshStack(stacks.plaintext, "prod", { allowPlaintextHttp: "true" });
    freshStack(stacks.allRoutes, "prod", { allowedRoutes: "All" });
  });

  after(() => {
    for (const stack of Object.values(stacks))
      pulumi(stack, ["stack", "rm", "--yes", "--force"], { allowFailure: true });
    for (const file of configFiles) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  for (const which of ["dev", "prod"] as const) {
    it(`passes the ${which} stack's committed settings: the pack runs, no mandatory violation`, () => {
      const res = previewWithPack(stacks[which], packConfig(prodStacks));
      assert.strictEqual(res.status, 0, output(res).slice(-6000));
      assert.ok(output(res).includes(PACK_NAME), `the preview names the pack:\n${output(res).slice(-4000)}`);
      assert.doesNotMatch(output(res), /mandatory/i);
    });
  }

  it("fails a stack that sets allowPlaintextHttp without the pack's opt-in, naming the policy", () => {
    const res = previewWithPack(stacks.plaintext, packConfig(prodStacks));
    assert.notStrictEqual(res.status, 0, output(res).slice(-6000));
    assert.match(output(res), /mcp-no-plaintext-http/);
    assert.match(output(res), /mandatory/i);
    assert.match(output(res), /plain-HTTP|listener 'http'/);
  });

  it("lets that stack pass with the pack's own opt-in (allowPlaintextHttp in --policy-pack-config)", () => {
    const optIn = packConfig(prodStacks, { "mcp-no-plaintext-http": { allowPlaintextHttp: true } });
    const res = previewWithPack(stacks.plaintext, optIn);
    assert.strictEqual(res.status, 0, output(res).slice(-6000));
    assert.doesNotMatch(output(res), /mcp-no-plaintext-http/);
  });

  it("fails a prod stack whose shared Gateway admits routes from All namespaces, naming the policy", () => {
    const res = previewWithPack(stacks.allRoutes, packConfig(prodStacks));
    assert.notStrictEqual(res.status, 0, output(res).slice(-6000));
    assert.match(output(res), /prod-gateway-no-all-namespaces/);
    assert.match(output(res), /admits routes from All namespaces/);
  });
});

/**
 * The pack on what the program itself registers (test/harness.ts runs it under Pulumi mocks, with
 * every value known, as `pulumi up` sees them): its stacks pass every mandatory policy as
 * configured by default, and the settings the pack exists to catch are caught.
 */
import * as assert from "assert";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { policies } from "../../policy/policies";
import { StackSpec, appSpec, devSpec, platformSpec, prodSpec, runStack } from "../harness";
import { TestResource, Violation, validateResource, validateStack } from "./support";

interface Finding extends Violation {
  policy: string;
  level: string;
}

/** Every violation of every policy on the stack `spec`, with the config `config` for each policy. */
async function judge(spec: StackSpec, config: Record<string, Record<string, unknown>> = {}): Promise<Finding[]> {
  const run = await runStack(spec);
  const resources: TestResource[] = run.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.inputs,
  }));
  const findings: Finding[] = [];
  for (const policy of policies) {
    const both = policy as Partial<ResourceValidationPolicy & StackValidationPolicy>;
    const own = config[policy.name] ?? {};
    const add = (v: Violation): number =>
      findings.push({ ...v, policy: policy.name, level: policy.enforcementLevel ?? "advisory" });
    if (both.validateResource) {
      for (const r of resources) (await validateResource(policy as ResourceValidationPolicy, r, own)).forEach(add);
    }
    if (both.validateStack) (await validateStack(policy as StackValidationPolicy, resources, own)).forEach(add);
  }
  return findings;
}

function names(findings: Finding[], level: string): string[] {
  return [...new Set(findings.filter((f) => f.level === level).map((f) => f.policy))].sort();
}

/** prod as Pulumi.prod.yaml sets it up: the shared Gateway admits only the labelled app namespaces. */
const committedProd = (config: Record<string, string> = {}): StackSpec =>
  prodSpec({ allowedRoutes: "Selector", ...config });

describe("the policy pack on the program's own stacks (under mocks)", () => {
  for (const [what, spec] of [
    ["prod (reference pattern, as Pulumi.prod.yaml)", () => committedProd()],
    ["dev (creation pattern)", () => devSpec()],
    ["a platform stack", () => platformSpec()],
    ["an app stack", () => appSpec("a")],
  ] as const) {
    it(`${what}: no mandatory violation`, async () => {
      const findings = await judge(spec());
      assert.deepStrictEqual(names(findings, "mandatory"), [], JSON.stringify(findings, null, 2));
    });
  }

  it("flags the chart's cluster-wide ClusterRole (agentAccess chart, the default) and not a scoped agent", async () => {
    assert.deepStrictEqual(names(await judge(devSpec()), "advisory"), ["dot-ai-cluster-wide-write"]);
    assert.deepStrictEqual(names(await judge(devSpec({ agentAccess: "read" })), "advisory"), []);
  });

  for (const [what, spec] of [
    ["prod", () => committedProd({ allowPlaintextHttp: "true" })],
    ["dev", () => devSpec({ allowPlaintextHttp: "true" })],
    ["a platform", () => platformSpec({ allowPlaintextHttp: "true" })],
  ] as const) {
    it(`refuses allowPlaintextHttp on ${what} unless the pack's own config opts in`, async () => {
      assert.deepStrictEqual(names(await judge(spec()), "mandatory"), ["mcp-no-plaintext-http"]);
      const optIn = { "mcp-no-plaintext-http": { allowPlaintextHttp: true } };
      assert.deepStrictEqual(names(await judge(spec(), optIn), "mandatory"), []);
    });
  }

  it("refuses allowedRoutes All on prod, the program's default for a combined stack", async () => {
    for (const spec of [prodSpec(), prodSpec({ allowedRoutes: "All" })]) {
      assert.deepStrictEqual(names(await judge(spec), "mandatory"), ["prod-gateway-no-all-namespaces"]);
    }
  });

  it("refuses a staging or self-signed clusterIssuer on prod", async () => {
    for (const clusterIssuer of ["letsencrypt-staging", "selfsigned"]) {
      const findings = await judge(committedProd({ clusterIssuer }));
      assert.deepStrictEqual(names(findings, "mandatory"), ["prod-certificate-real-issuer"], clusterIssuer);
    }
  });
});

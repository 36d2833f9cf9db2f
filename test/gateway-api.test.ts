import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";

import { explainSlowWait } from "../components/await";
import { certificateWaitMessage, gatewayWaitMessage } from "../components/await";
import {
  FIXTURE_CRDS,
  FIXTURE_CRDS_V1_2_1,
  StackRun,
  TYPES,
  byType,
  devSpec,
  one,
  prodSpec,
  resolve,
  runStack,
  bundleCrdNames,
} from "./harness";

describe("the Gateway API bundle", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack(prodSpec());
    if (run.error) throw run.error;
  });

  it("installs the default v1.6.3 bundle whole: its CRDs, the safe-upgrades policy and its binding, all retained", () => {
    const policy = one(run, TYPES.admissionPolicy);
    const binding = one(run, TYPES.admissionPolicyBinding);
    assert.strictEqual(policy.inputs.metadata.name, "safe-upgrades.gateway.networking.k8s.io");
    assert.strictEqual(binding.inputs.spec.policyName, policy.inputs.metadata.name);
    assert.deepStrictEqual(binding.inputs.spec.validationActions, ["Deny"]);
    assert.ok(binding.dependencies.includes(policy.urn), "the binding after its policy");
    for (const r of [...byType(run, TYPES.crd), policy, binding]) {
      assert.strictEqual(r.retainOnDelete, true, `${r.type} ${r.name} must survive pulumi destroy`);
    }
  });

  it("takes over the policy and binding another stack or kubectl applied before, instead of failing on a conflict", () => {
    for (const r of [one(run, TYPES.admissionPolicy), one(run, TYPES.admissionPolicyBinding)]) {
      assert.strictEqual(r.inputs.metadata.annotations?.["pulumi.com/patchForce"], "true", r.type);
    }
    for (const crd of byType(run, TYPES.crd)) {
      assert.strictEqual(crd.inputs.metadata.annotations?.["pulumi.com/patchForce"], undefined, crd.name);
    }
  });

  it("deletes the policy with the CRDs only when retainCrds is false", async () => {
    const unretained = await runStack(prodSpec({ retainCrds: "false" }));
    if (unretained.error) throw unretained.error;
    for (const type of [TYPES.crd, TYPES.admissionPolicy, TYPES.admissionPolicyBinding]) {
      for (const r of byType(unretained, type)) assert.strictEqual(r.retainOnDelete, false, `${type} ${r.name}`);
    }
  });

  it("creates the ReferenceGrant as v1 on v1.6.3, as v1beta1 on v1.2.1, and the same object either way", async () => {
    const grant = one(run, TYPES.referenceGrant);
    assert.strictEqual(byType(run, TYPES.referenceGrantV1beta1).length, 0);

    const old = await runStack(prodSpec({ gatewayApiVersion: "v1.2.1", gatewayApiCrdsFile: FIXTURE_CRDS_V1_2_1 }));
    if (old.error) throw old.error;
    const oldGrant = one(old, TYPES.referenceGrantV1beta1);
    assert.strictEqual(byType(old, TYPES.referenceGrant).length, 0);
    assert.deepStrictEqual(oldGrant.inputs.spec, grant.inputs.spec);
    assert.deepStrictEqual(oldGrant.inputs.metadata, grant.inputs.metadata);
    assert.strictEqual(byType(old, TYPES.admissionPolicy).length, 0, "v1.2.1 has no admission policy");
    // The Gateway and the chart's HTTPRoute are v1 on both.
    assert.strictEqual(one(old, TYPES.gateway).inputs.metadata.name, "cluster-gateway");
  });

  it("refuses a CRD file of another release than gatewayApiVersion, naming both settings, before registering anything", async () => {
    const mismatch = await runStack(prodSpec({ gatewayApiCrdsFile: FIXTURE_CRDS_V1_2_1 }));
    assert.ok(mismatch.error, "the program stops");
    assert.match(mismatch.error.message, /gatewayApiVersion is v1\.6\.3, but the Gateway API manifest/);
    assert.match(
      mismatch.error.message,
      /is bundle v1\.2\.1 that does not serve ReferenceGrant gateway\.networking\.k8s\.io\/v1/,
    );
    assert.match(mismatch.error.message, /Fix: pulumi config set dot-ai-gateway:gatewayApiVersion .*\(v1\.2\.1\)/);
    assert.deepStrictEqual(mismatch.resources, []);
  });

  it("accepts a newer bundle for the creation pattern, which creates no ReferenceGrant", async () => {
    const dev = await runStack(devSpec({ gatewayApiVersion: "v1.2.1", gatewayApiCrdsFile: FIXTURE_CRDS }));
    if (dev.error) throw dev.error;
    assert.strictEqual(bundleCrdNames(dev).length, 3);
  });
});

describe("waiting for the controllers", () => {
  it("gives both waits the configured timeout", async () => {
    const run = await runStack(prodSpec({ waitTimeout: "90s" }));
    if (run.error) throw run.error;
    for (const [type, condition] of [
      [TYPES.gateway, "condition=Programmed"],
      [TYPES.certificate, "condition=Ready"],
    ] as const) {
      const annotations = one(run, type).inputs.metadata.annotations;
      assert.strictEqual(annotations["pulumi.com/waitFor"], condition);
      assert.strictEqual(annotations["pulumi.com/timeoutSeconds"], "90");
    }
  });

  it("skips a wait that is switched off", async () => {
    const run = await runStack(prodSpec({ waitForGateway: "false", waitForCertificate: "false" }));
    if (run.error) throw run.error;
    for (const type of [TYPES.gateway, TYPES.certificate]) {
      const annotations = one(run, type).inputs.metadata.annotations;
      assert.strictEqual(annotations["pulumi.com/skipAwait"], "true");
      assert.strictEqual(annotations["pulumi.com/waitFor"], undefined);
    }
  });

  it("say what they wait for, what to check, and how to switch them off", async () => {
    const gateway = await resolve(gatewayWaitMessage("gateway-system", "cluster-gateway", "eg", 600));
    assert.match(gateway, /up to 10m, dot-ai-gateway:waitTimeout/);
    assert.match(gateway, /Gateway gateway-system\/cluster-gateway to be Programmed/);
    assert.match(gateway, /kubectl get gatewayclass eg/);
    assert.match(gateway, /kubectl describe gateway -n gateway-system cluster-gateway/);
    assert.match(gateway, /pulumi config set dot-ai-gateway:waitForGateway false/);

    const certificate = await resolve(certificateWaitMessage("gateway-system", "wildcard", "letsencrypt-prod", 90));
    assert.match(certificate, /up to 1m30s/);
    assert.match(certificate, /Certificate gateway-system\/wildcard to be Ready/);
    assert.match(certificate, /cert-manager/);
    assert.match(certificate, /kubectl get clusterissuer letsencrypt-prod/);
    assert.match(certificate, /pulumi config set dot-ai-gateway:waitForCertificate false/);
  });

  it("explain themselves when the controller has not answered in time, and only then", async () => {
    await runStack(prodSpec()); // leaves the mocks set for an update: nothing is explained in a preview
    const logged: [string, pulumi.Resource][] = [];
    const log = (message: string, resource: pulumi.Resource) => logged.push([message, resource]);
    const pending = { id: pulumi.output(new Promise<string>(() => undefined)) } as unknown as pulumi.CustomResource;
    const answered = { id: pulumi.output("gw-id") } as unknown as pulumi.CustomResource;

    const component = {} as pulumi.Resource;
    const wait = { on: component, after: [], timeoutSeconds: 2, log };
    explainSlowWait({ ...wait, resource: pending, message: "waiting for the controller" });
    explainSlowWait({ ...wait, resource: answered, message: "not this one" });
    await new Promise((done) => setTimeout(done, 1300)); // half the timeout, at most 60 s
    assert.deepStrictEqual(
      logged.map(([m]) => m),
      ["waiting for the controller"],
    );
    assert.strictEqual(logged[0][1], component, "attached to the component, whose URN is known during the wait");
  });
});

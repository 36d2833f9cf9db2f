import * as assert from "assert";

import { GatewayApiCrds, ManifestObject, parseManifest } from "../components/crds";
import { FIXTURE_CRDS_V1_2_1, StackRun, TYPES, byType, devSpec, one, resolve, runProgram, runStack } from "./harness";

describe("the order the Gateway API bundle is installed in", () => {
  it("creates every CRD after the safe-upgrades policy is bound: guarded writes, and the provider's schema reads saved", async () => {
    const run = await runStack(devSpec());
    if (run.error) throw run.error;
    const policy = one(run, TYPES.admissionPolicy);
    const binding = one(run, TYPES.admissionPolicyBinding);
    assert.ok(binding.dependencies.includes(policy.urn), "the binding after its policy");
    const crds = byType(run, TYPES.crd);
    assert.ok(crds.length > 0);
    for (const crd of crds) assert.ok(crd.dependencies.includes(binding.urn), `${crd.name} after the binding`);
  });

  it("installs an older bundle without the policy (v1.2.1): the CRDs the stack needs wait for nothing", async () => {
    const run = await runStack(devSpec({ gatewayApiVersion: "v1.2.1", gatewayApiCrdsFile: FIXTURE_CRDS_V1_2_1 }));
    if (run.error) throw run.error;
    assert.strictEqual(byType(run, TYPES.admissionPolicy).length, 0);
    for (const plural of ["gateways", "httproutes"]) {
      assert.deepStrictEqual(one(run, TYPES.crd, `${plural}.gateway.networking.k8s.io`).dependencies, [], plural);
    }
  });

  describe("with the kinds a stack creates installed first", () => {
    const KINDS = ["GatewayClass", "GRPCRoute", "Gateway", "TLSRoute", "HTTPRoute"];
    let run: StackRun;
    let bundle: GatewayApiCrds;
    before(async () => {
      // The kinds the stack needs come last in the manifest, as HTTPRoute's CRD, the largest, came
      // last to the engine when every CRD waited for the same binding.
      run = await runProgram({ stack: "crds" }, async () => {
        bundle = new GatewayApiCrds("bundle", { objects: bundleOf(KINDS), first: ["HTTPRoute", "Gateway"] });
        return {};
      });
      if (run.error) throw run.error;
    });
    const crd = (kind: string) => one(run, TYPES.crd, `${kind.toLowerCase()}s.gateway.networking.k8s.io`);

    it("registers them right after the policy binding, the rest of the bundle once they exist", () => {
      const binding = one(run, TYPES.admissionPolicyBinding);
      assert.deepStrictEqual(
        byType(run, TYPES.crd).map((c) => c.name.split(".")[0]),
        ["gateways", "httproutes", "gatewayclasss", "grpcroutes", "tlsroutes"],
      );
      for (const kind of ["Gateway", "HTTPRoute"]) assert.deepStrictEqual(crd(kind).dependencies, [binding.urn]);
      for (const kind of ["GatewayClass", "GRPCRoute", "TLSRoute"]) {
        assert.deepStrictEqual(
          [...crd(kind).dependencies].sort(),
          [binding.urn, crd("Gateway").urn, crd("HTTPRoute").urn].sort(),
          kind,
        );
      }
    });

    it("gives what needs only those kinds just their CRDs, and refuses a kind the bundle lacks", async () => {
      const urns = await Promise.all(bundle.firstCrds.map((r) => resolve(r.urn)));
      assert.deepStrictEqual(urns, [crd("Gateway").urn, crd("HTTPRoute").urn]);
      const lacking = await runProgram({ stack: "crds" }, async () => {
        new GatewayApiCrds("bundle", { objects: bundleOf(KINDS), first: ["UDPRoute"] });
        return {};
      });
      assert.match(lacking.error?.message ?? "", /the Gateway API manifest has no CRD for UDPRoute/);
    });
  });
});

/** A bundle of the given kinds' CRDs (names and versions only) with the safe-upgrades policy and binding. */
function bundleOf(kinds: string[]): ManifestObject[] {
  const crds = kinds.map((kind) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${kind.toLowerCase()}s.gateway.networking.k8s.io` },
    spec: { group: "gateway.networking.k8s.io", names: { kind }, versions: [{ name: "v1", served: true }] },
  }));
  const name = "safe-upgrades.gateway.networking.k8s.io";
  return [
    ...crds,
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name } },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: { policyName: name },
    },
  ];
}

describe("reading a Gateway API release manifest", () => {
  it("gives every object of a multi-document file, skipping comments and empty documents", () => {
    const objects = parseManifest(`# Gateway API Standard channel install
---
#
# config/crd/standard/gateway.networking.k8s.io_gateways.yaml
#
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gateways.gateway.networking.k8s.io
spec: { group: gateway.networking.k8s.io }
---
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: safe-upgrades.gateway.networking.k8s.io }
`);
    assert.deepStrictEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        "CustomResourceDefinition/gateways.gateway.networking.k8s.io",
        "ValidatingAdmissionPolicy/safe-upgrades.gateway.networking.k8s.io",
      ],
    );
    assert.deepStrictEqual(objects[0].spec, { group: "gateway.networking.k8s.io" });
  });

  it("gives nothing for a file without documents", () => {
    assert.deepStrictEqual(parseManifest(""), []);
    assert.deepStrictEqual(parseManifest("# only a comment\n---\n---\n"), []);
  });

  it("keeps values as Kubernetes reads them (YAML 1.2): dates and yes/no stay strings", () => {
    const [obj] = parseManifest(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: m }\ndata: { since: 2024-01-31, flag: yes, off: no }\n",
    );
    assert.deepStrictEqual(obj.data, { since: "2024-01-31", flag: "yes", off: "no" });
  });

  it("refuses a document that is not a Kubernetes object, saying which one and what it lacks", () => {
    const object = "apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n";
    for (const bad of [
      "just a string",
      "- a\n- list",
      "kind: Namespace\nmetadata: { name: a }",
      "apiVersion: v1\nkind: Namespace",
    ]) {
      assert.throws(
        () => parseManifest(`${object}---\n${bad}\n`),
        /^Error: manifest document 2 is not a Kubernetes object \(apiVersion, kind, metadata\.name\)$/,
        bad,
      );
    }
  });

  it("numbers documents by their place in the file, comment-only ones included (upstream bundles start with some)", () => {
    const manifest =
      "# header\n---\n# another comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n---\nkind: X\n";
    assert.throws(() => parseManifest(manifest), /^Error: manifest document 3 is not a Kubernetes object/);
  });

  it("names the line and column of a YAML error", () => {
    const broken = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n";
    assert.throws(
      () => parseManifest(broken),
      (err: Error) => {
        assert.match(err.message, /^line 5, column 1: /);
        assert.ok(err.cause, "the YAML library's error is kept as the cause");
        return true;
      },
    );
    assert.throws(() => parseManifest("a: 1\n  b: 2\n"), /^Error: line 2, column 4: bad indentation/);
  });
});

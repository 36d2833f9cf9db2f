import * as assert from "assert";

import { parseManifest } from "../components/crds";

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

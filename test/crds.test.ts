import * as assert from "assert";

import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ManifestObject, parseManifest } from "../components/crds";
import {
  BUNDLE_RELEASE,
  bundleChart,
  bundleChartVersion,
  recordFits,
  releaseRecordBytes,
  writeBundleChart,
} from "../stacks/bundle-chart";
import type { ClusterGatewayApi } from "../cluster/crd-precheck";
import {
  FIXTURE_CRDS,
  FIXTURE_CRDS_V1_2_1,
  TYPES,
  bundleRelease,
  byType,
  devSpec,
  one,
  runStack,
  annotation,
} from "./harness";

describe("the Gateway API bundle as one Helm release", () => {
  const BINDING = "safe-upgrades.gateway.networking.k8s.io";

  it("holds every CRD of the bundle, each kept by Helm, installed after the safe-upgrades policy is bound", async () => {
    const run = await runStack(devSpec());
    if (run.error) throw run.error;
    assert.deepStrictEqual(byType(run, TYPES.crd), [], "no CRD as a resource of its own");
    const policy = one(run, TYPES.admissionPolicy);
    const binding = one(run, TYPES.admissionPolicyBinding, BINDING);
    assert.ok(binding.dependencies.includes(policy.urn), "the binding after its policy");
    const { release, objects } = bundleRelease(run);
    assert.ok(release.dependencies.includes(binding.urn), "the release after the binding: the guard is in force first");
    assert.deepStrictEqual(
      { name: release.inputs.name, namespace: release.inputs.namespace, skipAwait: release.inputs.skipAwait },
      { ...BUNDLE_RELEASE, skipAwait: false },
    );
    assert.deepStrictEqual(
      objects.map((o) => o.kind),
      ["CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition"],
      "the admission objects stay outside the chart",
    );
    for (const o of objects) assert.strictEqual(annotation(o, "helm.sh/resource-policy"), "keep", o.metadata.name);
    assert.ok(release.retainOnDelete, "pulumi destroy leaves the release, which other stacks may share");
    assert.strictEqual(release.importId, "", "nothing to import on an empty cluster");
  });

  it("installs an older bundle without the policy (v1.2.1): the release waits for nothing", async () => {
    const run = await runStack(devSpec({ gatewayApiVersion: "v1.2.1", gatewayApiCrdsFile: FIXTURE_CRDS_V1_2_1 }));
    if (run.error) throw run.error;
    assert.strictEqual(byType(run, TYPES.admissionPolicy).length, 0);
    assert.deepStrictEqual(bundleRelease(run).release.dependencies, []);
  });

  it("with retainCrds false, carries no keep policy: pulumi destroy's uninstall deletes the CRDs", async () => {
    const run = await runStack(devSpec({ retainCrds: "false" }));
    if (run.error) throw run.error;
    for (const o of bundleRelease(run).objects) {
      assert.strictEqual(annotation(o, "helm.sh/resource-policy"), undefined, o.metadata.name);
    }
    assert.ok(!one(run, TYPES.admissionPolicy).retainOnDelete);
    assert.ok(!bundleRelease(run).release.retainOnDelete, "pulumi destroy uninstalls the release, deleting them");
  });

  it("takes over CRDs the stack installed as Pulumi resources: Helm's ownership set by one retained patch each, before the release", async () => {
    const legacy: ClusterGatewayApi = {
      crds: ["gateways", "httproutes", "referencegrants"].map((plural) => ({
        name: `${plural}.gateway.networking.k8s.io`,
        bundleVersion: "v1.6.3",
        channel: "standard",
        managers: ["pulumi-kubernetes-2c8b1f0e"],
      })),
      served: [],
    };
    const run = await runStack({ ...devSpec(), gatewayApi: legacy });
    if (run.error) throw run.error;
    const patches = byType(run, TYPES.crdPatch);
    assert.deepStrictEqual(
      patches.map((p) => p.inputs.metadata),
      legacy.crds.map((c) => ({
        name: c.name,
        labels: { "app.kubernetes.io/managed-by": "Helm" },
        annotations: {
          "meta.helm.sh/release-name": "dot-ai-gateway-crds",
          "meta.helm.sh/release-namespace": "kube-system",
        },
      })),
    );
    // With the identity fields the provider needs of any CRD it is given, as the bundle has them.
    const bundled = Object.fromEntries(bundleRelease(run).objects.map((o) => [o.metadata.name, o.spec]));
    for (const patch of patches) {
      const spec = bundled[patch.inputs.metadata.name] as { group: string; names: unknown; scope: string };
      assert.deepStrictEqual(patch.inputs.spec, { group: spec.group, names: spec.names, scope: spec.scope });
    }
    const { release } = bundleRelease(run);
    for (const patch of patches) {
      assert.ok(patch.retainOnDelete, `${patch.name}: Helm's labels stay when it leaves the state`);
      assert.ok(release.dependencies.includes(patch.urn), `the release after ${patch.name}`);
    }
  });

  it("imports the release it finds: a second stack on the cluster, or a first up killed after Helm's install, takes it on", async () => {
    const installed: ClusterGatewayApi = {
      crds: ["gateways", "httproutes", "referencegrants"].map((plural) => ({
        name: `${plural}.gateway.networking.k8s.io`,
        bundleVersion: "v1.6.3",
        managers: ["pulumi-resource-kubernetes"],
        helmRelease: { ...BUNDLE_RELEASE },
      })),
      served: [],
      bundleRelease: { version: 1, status: "deployed" },
    };
    const run = await runStack({ ...devSpec(), gatewayApi: installed });
    if (run.error) throw run.error;
    assert.strictEqual(bundleRelease(run).release.importId, "kube-system/dot-ai-gateway-crds");
    assert.deepStrictEqual(byType(run, TYPES.crdPatch), []);
  });

  it("refuses, before registering anything, a bundle whose release Helm could not store, naming the size and the fix", async () => {
    const base = fs.readFileSync(FIXTURE_CRDS, "utf8");
    // 1.2 MB that gzip cannot shrink, in a description: the record would be over 1 MiB.
    const noise = crypto.randomBytes(900 * 1024).toString("base64");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "huge-bundle-")), "standard-install.yaml");
    // An annotation on the first CRD: the manifest stays valid, and the chart carries it.
    fs.writeFileSync(file, base.replace(/annotations:\n/, `annotations:\n    noise: ${noise}\n`));
    const run = await runStack(devSpec({ gatewayApiCrdsFile: file }));
    assert.ok(run.error, "the program stops");
    assert.match(
      run.error.message,
      /too large for one Helm release: each revision would be a Secret of about \d+ KiB, over the API server's limit of 1024 KiB/,
    );
    assert.match(run.error.message, /Fix: install the bundle yourself .*installCrds false/);
    assert.deepStrictEqual(run.resources, []);
  });
});

describe("the bundle's chart", () => {
  const crd = (description: string): ManifestObject => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "gateways.gateway.networking.k8s.io" },
    spec: { group: "gateway.networking.k8s.io", names: { kind: "Gateway" }, description },
  });
  const source = { bundleVersion: "v1.6.3", keep: true };

  it("is versioned by the bundle's release, and by the file's digest for a custom file", () => {
    assert.strictEqual(bundleChartVersion({ bundleVersion: "v1.6.3" }), "1.6.3");
    assert.strictEqual(bundleChartVersion({ bundleVersion: "v1.7.0-rc.1" }), "1.7.0-rc.1");
    assert.match(bundleChartVersion({ bundleVersion: "v1.6.3", customFile: "a" }), /^1\.6\.3\+sha\.[0-9a-f]{12}$/);
    assert.notStrictEqual(
      bundleChartVersion({ bundleVersion: "v1.6.3", customFile: "a" }),
      bundleChartVersion({ bundleVersion: "v1.6.3", customFile: "b" }),
    );
  });

  it("passes template delimiters in the bundle's text through to Helm unchanged", () => {
    const chart = bundleChart([crd("use {{ .Values }} here")], source);
    const template = Object.entries(chart.files).find(([name]) => name.startsWith("templates/"))?.[1] ?? "";
    assert.ok(template.includes('use {{ "{{" }} .Values }} here'), template);
    assert.match(chart.files["Chart.yaml"], /^version: 1\.6\.3$/m);
  });

  it("is written once per content, to a path that names its version, and reused by later runs", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-chart-"));
    const chart = bundleChart([crd("x")], source);
    const first = writeBundleChart(chart, root);
    assert.match(path.basename(first), /^gateway-api-crds-1\.6\.3-[0-9a-f]{12}$/);
    const stamp = fs.statSync(path.join(first, "Chart.yaml")).mtimeMs;
    assert.strictEqual(writeBundleChart(chart, root), first);
    assert.strictEqual(fs.statSync(path.join(first, "Chart.yaml")).mtimeMs, stamp, "not written again");
    assert.notStrictEqual(writeBundleChart(bundleChart([crd("y")], source), root), first, "new content, new path");
    assert.deepStrictEqual(
      fs.readdirSync(root).filter((f) => f.startsWith(".")),
      [],
      "no staging folder left behind",
    );
  });

  it("estimates Helm's record of the release, and says when it would not fit in a Secret", () => {
    const small = releaseRecordBytes(bundleChart([crd("x")], source));
    assert.ok(small > 0 && recordFits(small));
    const huge = releaseRecordBytes(bundleChart([crd(crypto.randomBytes(800 * 1024).toString("base64"))], source));
    assert.ok(!recordFits(huge), String(huge));
  });
});

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

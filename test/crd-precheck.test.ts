import * as assert from "assert";

import {
  ClusterGatewayApi,
  HelmReleaseName,
  InstalledCrd,
  WantedBundle,
  judgeGatewayApiCrds,
  readClusterGatewayApi,
  wantedBundle,
} from "../cluster/crd-precheck";
import type { ManifestObject } from "../components/crds";
import { BUNDLE_RELEASE } from "../stacks/bundle-chart";
import type { CrdConfig } from "../stacks/config";
import { APP_RELEASE, NO_GATEWAY_API, TYPES, bundleCrdNames, byType, devSpec, prodSpec, runStack } from "./harness";
import { FAKE_TOKEN, FakeCluster, startFakeCluster } from "./support/fake-cluster";

const NAMES = ["gateways", "httproutes", "referencegrants", "gatewayclasses"].map(
  (n) => `${n}.gateway.networking.k8s.io`,
);
const DEV_NEEDS = [
  { kind: "Gateway", version: "v1" },
  { kind: "HTTPRoute", version: "v1" },
];
const PROD_NEEDS = [...DEV_NEEDS, { kind: "ReferenceGrant", version: "v1" }];
const want = (over: Partial<WantedBundle> = {}): WantedBundle => ({
  version: "v1.6.3",
  crdNames: NAMES,
  needs: PROD_NEEDS,
  retainOnDelete: true,
  release: BUNDLE_RELEASE,
  ...over,
});

/** Field managers as real clusters record them (status-only managers are left out when read). */
const PULUMI = "pulumi-kubernetes-2c8b1f0e";
const KUBECTL_SSA = "kubectl";
const HELM = "helm";

function bundle(version: string, managers: string[], channel = "standard"): InstalledCrd[] {
  return NAMES.map((name) => ({ name, bundleVersion: version, channel, managers }));
}
/** What a bundle of `version` serves: ReferenceGrant v1beta1, and v1 from v1.5 on. */
function servedBy(version: string): ClusterGatewayApi["served"] {
  const v1ReferenceGrant = !/^v1\.[0-4]\./.test(version);
  return [
    { kind: "Gateway", version: "v1" },
    { kind: "HTTPRoute", version: "v1" },
    { kind: "GatewayClass", version: "v1" },
    { kind: "ReferenceGrant", version: "v1beta1" },
    ...(v1ReferenceGrant ? [{ kind: "ReferenceGrant", version: "v1" }] : []),
  ];
}
function cluster(version: string, managers: string[], policy = true, channel = "standard"): ClusterGatewayApi {
  return {
    crds: bundle(version, managers, channel),
    served: servedBy(version),
    policy: policy ? { bundleVersion: version } : undefined,
  };
}

describe("Gateway API CRDs already in the cluster", () => {
  describe("are judged before anything is registered", () => {
    it("installs the bundle on a cluster without Gateway API", () => {
      assert.strictEqual(judgeGatewayApiCrds(want(), NO_GATEWAY_API).action, "install");
    });

    it("installs (or upgrades) over CRDs this program installed, of the same or an older release", () => {
      for (const version of ["v1.6.3", "v1.6.0", "v1.2.1"]) {
        const verdict = judgeGatewayApiCrds(want(), cluster(version, [PULUMI], false));
        assert.strictEqual(verdict.action, "install", version);
      }
      // Fields nobody owns (managedFields stripped, or a cluster from before they were recorded):
      // given Helm's ownership by a patch, which Helm needs to take them over.
      const unowned = judgeGatewayApiCrds(want(), cluster("v1.6.3", [], false));
      assert.deepStrictEqual(unowned.action === "install" && unowned.adopt, NAMES);
      // Co-managed by kubectl with identical values: the stack still manages them.
      assert.strictEqual(judgeGatewayApiCrds(want(), cluster("v1.6.3", [PULUMI, KUBECTL_SSA])).action, "install");
    });

    for (const policy of [true, false]) {
      const withPolicy = policy ? "with" : "without";

      it(`never downgrades a newer bundle, ${withPolicy} the safe-upgrades policy: skips it, naming both releases`, () => {
        for (const managers of [[KUBECTL_SSA], [HELM], [PULUMI, KUBECTL_SSA]]) {
          const verdict = judgeGatewayApiCrds(want(), cluster("v1.7.0", managers, policy));
          assert.strictEqual(verdict.action, "skip", managers.join());
          if (verdict.action !== "skip") continue;
          assert.match(
            verdict.warning,
            /The cluster has Gateway API v1\.7\.0, newer than dot-ai-gateway:gatewayApiVersion v1\.6\.3/,
          );
          assert.match(verdict.warning, /installs none of its v1\.6\.3 bundle/);
          assert.match(verdict.warning, /Gateway v1, HTTPRoute v1, ReferenceGrant v1/);
          assert.match(verdict.warning, /pulumi config set dot-ai-gateway:installCrds false/);
          assert.match(
            verdict.warning,
            policy
              ? /safe-upgrades admission policy \(v1\.7\.0\) would refuse/
              : /nothing on this cluster would have stopped/,
          );
        }
      });

      it(`leaves same-release CRDs another field manager applied, ${withPolicy} the policy, instead of a field conflict`, () => {
        const verdict = judgeGatewayApiCrds(want(), cluster("v1.6.3", [KUBECTL_SSA], policy));
        assert.strictEqual(verdict.action, "skip");
        if (verdict.action === "skip") {
          assert.match(verdict.warning, /Gateway API v1\.6\.3 CRDs managed by 'kubectl', not by this program/);
        }
      });
    }

    it("compares releases as versions, not strings, and counts a newer release candidate", () => {
      assert.strictEqual(judgeGatewayApiCrds(want(), cluster("v1.10.0", [PULUMI])).action, "skip");
      assert.strictEqual(judgeGatewayApiCrds(want(), cluster("v1.7.0-rc.1", [PULUMI])).action, "skip");
      assert.strictEqual(
        judgeGatewayApiCrds(want({ version: "v1.10.0" }), cluster("v1.9.0", [PULUMI])).action,
        "install",
      );
    });

    it("counts a newer bundle when only one CRD or only the admission policy is newer", () => {
      const mixed = cluster("v1.6.3", [PULUMI]);
      mixed.crds[1] = { ...mixed.crds[1], bundleVersion: "v1.7.0", managers: [KUBECTL_SSA] };
      assert.strictEqual(judgeGatewayApiCrds(want(), mixed).action, "skip");
      const policyOnly = { ...cluster("v1.6.3", [PULUMI]), policy: { bundleVersion: "v1.7.0" } };
      assert.strictEqual(judgeGatewayApiCrds(want(), policyOnly).action, "skip");
    });

    it("refuses, naming the fix, when the cluster's newer CRDs lack a kind the stack creates", () => {
      const partial = cluster("v1.7.0", [KUBECTL_SSA]);
      partial.crds = partial.crds.filter((c) => !c.name.startsWith("referencegrants"));
      partial.served = partial.served.filter((s) => s.kind !== "ReferenceGrant");
      assert.strictEqual(judgeGatewayApiCrds(want({ needs: DEV_NEEDS }), partial).action, "skip", "dev needs none");
      const verdict = judgeGatewayApiCrds(want(), partial);
      assert.strictEqual(verdict.action, "refuse");
      if (verdict.action !== "refuse") return;
      assert.match(verdict.problem, /newer than dot-ai-gateway:gatewayApiVersion v1\.6\.3/);
      assert.match(
        verdict.problem,
        /do not serve ReferenceGrant gateway\.networking\.k8s\.io\/v1.*Nothing was deployed/,
      );
      assert.match(
        verdict.fixes[0],
        /^kubectl apply --server-side -f https:\/\/github\.com\/kubernetes-sigs\/gateway-api\/releases\/download\/v1\.7\.0\/standard-install\.yaml/,
      );
    });

    it("refuses when only a newer safe-upgrades policy is left: the API server would refuse our CRDs", () => {
      const verdict = judgeGatewayApiCrds(want(), { crds: [], served: [], policy: { bundleVersion: "v1.7.0" } });
      assert.strictEqual(verdict.action, "refuse");
      if (verdict.action === "refuse") assert.match(verdict.problem, /would refuse older CRDs/);
      // An older or same-release policy left behind does not stop the install.
      const same = judgeGatewayApiCrds(want(), { crds: [], served: [], policy: { bundleVersion: "v1.6.3" } });
      assert.strictEqual(same.action, "install");
    });

    it("does not upgrade an older bundle someone else manages: uses it when it serves the stack, else names both fixes", () => {
      const helmV121 = cluster("v1.2.1", [HELM], false);
      assert.strictEqual(judgeGatewayApiCrds(want({ needs: DEV_NEEDS }), helmV121).action, "skip");
      const verdict = judgeGatewayApiCrds(want(), helmV121);
      assert.strictEqual(verdict.action, "refuse");
      if (verdict.action !== "refuse") return;
      assert.match(verdict.problem, /do not serve ReferenceGrant gateway\.networking\.k8s\.io\/v1/);
      assert.match(verdict.fixes[0], /kubectl apply --server-side --force-conflicts -f .*\/download\/v1\.6\.3\//);
      // At v1.2.1 the program creates the ReferenceGrant as v1beta1, which that bundle serves.
      assert.ok(verdict.fixes.some((f) => /pulumi config set dot-ai-gateway:gatewayApiVersion v1\.2\.1/.test(f)));
    });

    it("leaves the experimental channel alone: the standard CRDs would drop its kinds and fields", () => {
      const verdict = judgeGatewayApiCrds(want(), cluster("v1.6.3", [PULUMI], true, "experimental"));
      assert.strictEqual(verdict.action, "skip");
      if (verdict.action === "skip") assert.match(verdict.warning, /experimental channel of Gateway API v1\.6\.3/);
    });

    it("with retainCrds false, refuses to leave out CRDs the stack installed: dropping them would delete them", () => {
      const verdict = judgeGatewayApiCrds(want({ retainOnDelete: false }), cluster("v1.7.0", [PULUMI, KUBECTL_SSA]));
      assert.strictEqual(verdict.action, "refuse");
      if (verdict.action === "refuse") {
        assert.match(verdict.problem, /retainCrds is false/);
        assert.match(verdict.fixes[0], /pulumi state delete/);
      }
      // CRDs it never managed are not in its state: leaving them deletes nothing.
      const foreign = judgeGatewayApiCrds(want({ retainOnDelete: false }), cluster("v1.7.0", [KUBECTL_SSA]));
      assert.strictEqual(foreign.action, "skip");
    });
  });

  describe("move into this program's release", () => {
    const OURS: HelmReleaseName = { ...BUNDLE_RELEASE };
    /** Helm's own field manager inside the Kubernetes provider: its binary's name. */
    const HELM_IN_PROVIDER = "pulumi-resource-kubernetes";
    const owned = (managers: string[], release: HelmReleaseName = OURS): ClusterGatewayApi => {
      const c = cluster("v1.6.3", managers);
      c.crds = c.crds.map((crd) => ({ ...crd, helmRelease: release }));
      return c;
    };
    const deployed = (c: ClusterGatewayApi, status = "deployed"): ClusterGatewayApi => ({
      ...c,
      bundleRelease: { version: 2, status },
    });

    it("takes over the CRDs it installed as Pulumi resources: one ownership patch each, and keeps them", () => {
      const verdict = judgeGatewayApiCrds(want(), cluster("v1.6.3", [PULUMI]));
      assert.deepStrictEqual(verdict, {
        action: "install",
        reason: "the cluster has Gateway API v1.6.3, installed by this program",
        adopt: NAMES,
        importRelease: false,
      });
      // Once adopted, the patches own Helm's labels: dropping them would show in every preview.
      const after = judgeGatewayApiCrds(want(), deployed(owned([PULUMI, HELM_IN_PROVIDER])));
      assert.deepStrictEqual(after.action === "install" && [after.adopt, after.importRelease], [NAMES, true]);
    });

    it("needs no patch for CRDs its release created, and imports the release it finds (another stack's, or its own lost from its state)", () => {
      const verdict = judgeGatewayApiCrds(want(), deployed(owned([HELM_IN_PROVIDER])));
      assert.deepStrictEqual(verdict.action === "install" && [verdict.adopt, verdict.importRelease], [[], true]);
      // A release left failed by Helm still holds its objects: imported too, and upgraded.
      const failed = judgeGatewayApiCrds(want(), deployed(owned([HELM_IN_PROVIDER]), "failed"));
      assert.ok(failed.action === "install" && failed.importRelease);
    });

    it("installs over CRDs kept by an uninstalled release of its own (Helm takes them back by their annotations)", () => {
      const verdict = judgeGatewayApiCrds(want(), owned([HELM_IN_PROVIDER]));
      assert.deepStrictEqual(verdict.action === "install" && [verdict.adopt, verdict.importRelease], [[], false]);
    });

    it("leaves CRDs another Helm release owns (a Gateway controller's chart), naming that release", () => {
      const verdict = judgeGatewayApiCrds(
        want(),
        owned([HELM_IN_PROVIDER], { name: "eg-crds", namespace: "envoy-gateway-system" }),
      );
      assert.strictEqual(verdict.action, "skip");
      if (verdict.action === "skip")
        assert.match(verdict.warning, /managed by 'Helm release envoy-gateway-system\/eg-crds'/);
    });

    it("stops on a release left pending by an interrupted run, naming the revision to delete", () => {
      const verdict = judgeGatewayApiCrds(want(), deployed(owned([HELM_IN_PROVIDER]), "pending-install"));
      assert.strictEqual(verdict.action, "refuse");
      if (verdict.action !== "refuse") return;
      assert.match(
        verdict.problem,
        /kube-system\/dot-ai-gateway-crds.*is stuck: its newest revision \(2\) is pending-install/,
      );
      assert.match(
        verdict.fixes[0],
        /kubectl delete secret sh\.helm\.release\.v1\.dot-ai-gateway-crds\.v2 -n kube-system/,
      );
    });

    it("with retainCrds false, refuses to move CRDs out of the stack's resources: Pulumi would delete them", () => {
      const verdict = judgeGatewayApiCrds(want({ retainOnDelete: false }), cluster("v1.6.3", [PULUMI]));
      assert.strictEqual(verdict.action, "refuse");
      if (verdict.action === "refuse") assert.match(verdict.fixes[0], /pulumi state delete/);
      // Once in the release, retainCrds false is Helm's uninstall deleting them: allowed.
      const inRelease = judgeGatewayApiCrds(want({ retainOnDelete: false }), deployed(owned([HELM_IN_PROVIDER])));
      assert.strictEqual(inRelease.action, "install");
    });
  });

  describe("are compared with the bundle the stack would install", () => {
    const crd = (name: string, bundleVersion?: string): ManifestObject => ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: {
        name,
        ...(bundleVersion ? { annotations: { "gateway.networking.k8s.io/bundle-version": bundleVersion } } : {}),
      },
    });
    const config = (version: string): CrdConfig => ({
      install: true,
      version,
      source: { kind: "file", path: "bundle.yaml" },
      retainOnDelete: false,
    });

    it("whose release is what its CRDs say, whatever gatewayApiVersion says", () => {
      const wanted = wantedBundle(config("v1.6.3"), DEV_NEEDS, [
        crd("gateways.gateway.networking.k8s.io", "v1.6.2"),
        { ...crd("safe-upgrades.gateway.networking.k8s.io", "v1.6.2"), kind: "ValidatingAdmissionPolicy" },
      ]);
      assert.deepStrictEqual(wanted, {
        version: "v1.6.2",
        crdNames: ["gateways.gateway.networking.k8s.io"],
        needs: DEV_NEEDS,
        retainOnDelete: false,
        release: BUNDLE_RELEASE,
      });
    });

    it("and gatewayApiVersion when its CRDs carry no release, or none that is a version", () => {
      const names = ["gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"];
      assert.strictEqual(
        wantedBundle(
          config("v1.6.3"),
          DEV_NEEDS,
          names.map((n) => crd(n)),
        ).version,
        "v1.6.3",
      );
      assert.strictEqual(wantedBundle(config("v1.6.3"), DEV_NEEDS, [crd(names[0], "main")]).version, "v1.6.3");
    });
  });

  describe("in the whole program", () => {
    const runWith = (spec: ReturnType<typeof devSpec>, found: ClusterGatewayApi | Error) =>
      runStack({ ...spec, gatewayApi: found });

    it("registers no Gateway API object over CRDs it leaves, and still deploys dot-ai", async () => {
      const run = await runWith(devSpec(), cluster("v1.6.3", [KUBECTL_SSA]));
      if (run.error) throw run.error;
      for (const type of [TYPES.crd, TYPES.admissionPolicy, TYPES.admissionPolicyBinding]) {
        assert.deepStrictEqual(byType(run, type), [], type);
      }
      assert.strictEqual(byType(run, TYPES.release).filter((r) => r.name === APP_RELEASE).length, 1);
      assert.ok(run.warnings.some((w) => /managed by 'kubectl'/.test(w)));
    });

    it("stops before registering anything when it can neither install nor leave them", async () => {
      const partial = cluster("v1.7.0", [KUBECTL_SSA]);
      partial.served = partial.served.filter((s) => s.kind !== "ReferenceGrant");
      const run = await runWith(prodSpec(), partial);
      assert.ok(run.error, "the program stops");
      assert.match(run.error.message, /do not serve ReferenceGrant/);
      assert.match(run.error.message, /\n {2}Fix: kubectl apply --server-side -f /);
      assert.deepStrictEqual(run.resources, []);
    });

    it("installs as before, with a warning, when the cluster cannot be read", async () => {
      const run = await runWith(devSpec(), new Error("connect ECONNREFUSED 127.0.0.1:6443"));
      if (run.error) throw run.error;
      assert.strictEqual(bundleCrdNames(run).length, 3);
      assert.ok(run.warnings.some((w) => /ECONNREFUSED.*installing the bundle without checking/.test(w)));
    });
  });

  describe("are read with five small requests", () => {
    let cluster: FakeCluster;
    before(async () => {
      cluster = await startFakeCluster((req) => {
        if (req.path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions") {
          return {
            body: {
              kind: "PartialObjectMetadataList",
              apiVersion: "meta.k8s.io/v1",
              items: [
                {
                  metadata: {
                    name: "httproutes.gateway.networking.k8s.io",
                    labels: { "app.kubernetes.io/managed-by": "Helm" },
                    annotations: {
                      "gateway.networking.k8s.io/bundle-version": "v1.7.0",
                      "gateway.networking.k8s.io/channel": "standard",
                      "meta.helm.sh/release-name": "dot-ai-gateway-crds",
                      "meta.helm.sh/release-namespace": "kube-system",
                    },
                    managedFields: [
                      { manager: "kubectl", operation: "Apply" },
                      { manager: "kube-apiserver", operation: "Update", subresource: "status" },
                    ],
                  },
                },
                { metadata: { name: "certificates.cert-manager.io", managedFields: [{ manager: "helm" }] } },
              ],
            },
          };
        }
        if (req.path === "/api/v1/namespaces/kube-system/secrets") {
          // Helm's revision records of the bundle's release, found by their labels.
          const revision = (version: number, status: string) => ({
            metadata: {
              name: `sh.helm.release.v1.dot-ai-gateway-crds.v${version}`,
              labels: { owner: "helm", name: "dot-ai-gateway-crds", version: String(version), status },
            },
          });
          return {
            body: {
              kind: "PartialObjectMetadataList",
              apiVersion: "meta.k8s.io/v1",
              items:
                req.query.get("labelSelector") === "owner=helm,name=dot-ai-gateway-crds"
                  ? [revision(1, "superseded"), revision(2, "deployed")]
                  : [],
            },
          };
        }
        if (req.path === "/apis/gateway.networking.k8s.io/v1") {
          return {
            body: {
              kind: "APIResourceList",
              groupVersion: "gateway.networking.k8s.io/v1",
              resources: [
                { name: "httproutes", kind: "HTTPRoute" },
                { name: "httproutes/status", kind: "HTTPRoute" },
              ],
            },
          };
        }
        return undefined;
      });
    });
    after(() => cluster.close());

    it("metadata only, through the cluster the stack's kubernetes config selects", async () => {
      const found = await readClusterGatewayApi({ kubeconfig: cluster.kubeconfig() }, DEV_NEEDS);
      assert.deepStrictEqual(found, {
        crds: [
          {
            name: "httproutes.gateway.networking.k8s.io",
            bundleVersion: "v1.7.0",
            channel: "standard",
            helmRelease: { name: "dot-ai-gateway-crds", namespace: "kube-system" },
            managers: ["kubectl"],
          },
        ],
        served: [{ kind: "HTTPRoute", version: "v1" }],
        policy: undefined,
        bundleRelease: { version: 2, status: "deployed" },
      });
      const requests = cluster.requests;
      assert.strictEqual(requests.length, 5);
      assert.ok(requests.every((r) => r.authorization === `Bearer ${FAKE_TOKEN}`));
      assert.ok(
        requests.some(
          (r) => r.path.endsWith("/customresourcedefinitions") && /as=PartialObjectMetadataList/.test(r.accept ?? ""),
        ),
      );
      assert.ok(
        requests.some((r) => r.path.endsWith("/validatingadmissionpolicies/safe-upgrades.gateway.networking.k8s.io")),
      );
    });
  });
});

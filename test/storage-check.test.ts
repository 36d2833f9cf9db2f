import * as assert from "assert";

import { qdrantClaimName } from "../components/chart-contract";
import {
  ClusterStorage,
  VolumeInfo,
  judgeQdrantStorage,
  quantityBytes,
  readClusterStorage,
} from "../cluster/storage-check";
import { APP_RELEASE, TYPES, byType, devSpec, one, prodSpec, runStack } from "./harness";
import { FAKE_TOKEN, FakeCluster, startFakeCluster } from "./support/fake-cluster";

const CLAIM = "qdrant-storage-dot-ai-qdrant-0";
const judge = (storage: ClusterStorage) => judgeQdrantStorage(storage, "dot-ai", CLAIM);
const pv = (over: Partial<VolumeInfo> = {}): VolumeInfo => ({
  name: "pv-1",
  phase: "Available",
  storageClassName: "",
  capacityBytes: quantityBytes("10Gi"),
  accessModes: ["ReadWriteOnce"],
  ...over,
});
const NOTHING: ClusterStorage = { classes: [], volumes: [] };

describe("storage for the bundled Qdrant", () => {
  describe("is judged from the cluster's StorageClasses and PersistentVolumes", () => {
    it("binds through a default StorageClass with a provisioner", () => {
      assert.ok(judge({ classes: [{ name: "gp3", isDefault: true, provisioner: "ebs.csi.aws.com" }], volumes: [] }).ok);
    });

    it("binds to an Available class-less volume of at least 10Gi, ReadWriteOnce", () => {
      assert.ok(judge({ classes: [], volumes: [pv()] }).ok);
      assert.ok(judge({ classes: [], volumes: [pv({ capacityBytes: quantityBytes("50G") })] }).ok);
    });

    it("does not count volumes that are too small, read-only-many, taken, classed or reserved for another claim", () => {
      for (const volume of [
        pv({ capacityBytes: quantityBytes("5Gi") }),
        pv({ accessModes: ["ReadOnlyMany"] }),
        pv({ phase: "Bound" }),
        pv({ storageClassName: "slow" }),
        pv({ claimRef: "other/data-0" }),
      ])
        assert.strictEqual(judge({ classes: [], volumes: [volume] }).ok, false, JSON.stringify(volume));
      assert.ok(judge({ classes: [], volumes: [pv({ claimRef: `dot-ai/${CLAIM}` })] }).ok, "reserved for us");
    });

    it("with a default class without provisioner, needs an Available volume of that class", () => {
      const local = { name: "local", isDefault: true, provisioner: "kubernetes.io/no-provisioner" };
      assert.ok(judge({ classes: [local], volumes: [pv({ storageClassName: "local" })] }).ok);
      const verdict = judge({ classes: [local], volumes: [pv()] });
      assert.ok(!verdict.ok);
      assert.match(verdict.problem, /default StorageClass local has no provisioner/);
      assert.match(verdict.fix, /storageClassName local/);
    });

    it("refuses a cluster with neither, naming both fixes", () => {
      const verdict = judge(NOTHING);
      assert.ok(!verdict.ok);
      assert.match(verdict.problem, /no default StorageClass and no Available PersistentVolume of at least 10Gi/);
      assert.match(verdict.fix, /storageclass\.kubernetes\.io\/is-default-class/);
      assert.match(verdict.fix, /pulumi config set dot-ai-gateway:qdrantUrl /);
    });

    it("names the classes that exist when none is the default", () => {
      const verdict = judge({ classes: [{ name: "fast", isDefault: false, provisioner: "x" }], volumes: [] });
      assert.ok(!verdict.ok);
      assert.match(verdict.problem, /it has fast, none marked default/);
      assert.match(verdict.fix, /kubectl patch storageclass fast /);
    });

    it("accepts a claim that is already bound, as on every run after the first", () => {
      assert.ok(judge({ ...NOTHING, claimPhase: "Bound" }).ok);
    });

    it("finds the claim by the name the Qdrant subchart gives it", () => {
      assert.strictEqual(qdrantClaimName("dot-ai"), CLAIM);
      assert.strictEqual(qdrantClaimName("my-qdrant"), "qdrant-storage-my-qdrant-0");
    });

    it("reads storage quantities", () => {
      assert.strictEqual(quantityBytes("10Gi"), 10 * 1024 ** 3);
      assert.strictEqual(quantityBytes("20G"), 20e9);
      assert.strictEqual(quantityBytes("lots"), 0);
    });
  });

  describe("stops the program before anything is registered", () => {
    it("when the cluster cannot bind the claim, saying why and how to fix it", async () => {
      const run = await runStack({ ...prodSpec(), storage: NOTHING });
      assert.ok(run.error, "the program stops");
      assert.match(run.error.message, /claim qdrant-storage-dot-ai-qdrant-0 \(10Gi, ReadWriteOnce/);
      assert.match(run.error.message, /Fix: mark a StorageClass as the default/);
      assert.match(run.error.message, /dot-ai-gateway:qdrantUrl/);
      assert.deepStrictEqual(run.resources, []);
    });

    it("but not with an external Qdrant, whose storage is not ours to check", async () => {
      const run = await runStack({ ...devSpec({ qdrantUrl: "http://qdrant.qdrant.svc:6333" }), storage: NOTHING });
      if (run.error) throw run.error;
      assert.deepStrictEqual(one(run, TYPES.release, APP_RELEASE).inputs.values.qdrant, {
        enabled: false,
        external: { url: "http://qdrant.qdrant.svc:6333" },
      });
    });

    it("and carries on with a warning when the cluster cannot be read", async () => {
      const run = await runStack({ ...devSpec(), storage: new Error("connect ECONNREFUSED 127.0.0.1:6443") });
      if (run.error) throw run.error;
      assert.strictEqual(byType(run, TYPES.release).filter((r) => r.name === APP_RELEASE).length, 1);
      assert.ok(run.warnings.some((w) => /ECONNREFUSED.*skipping the storage check/.test(w)));
    });
  });

  describe("is read with the Kubernetes client", () => {
    let cluster: FakeCluster;
    before(async () => {
      cluster = await startFakeCluster((req) => {
        if (req.path === "/apis/storage.k8s.io/v1/storageclasses")
          return {
            body: {
              apiVersion: "storage.k8s.io/v1",
              kind: "StorageClassList",
              metadata: {},
              items: [
                {
                  metadata: {
                    name: "standard",
                    annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
                  },
                  provisioner: "kubernetes.io/no-provisioner",
                },
              ],
            },
          };
        if (req.path === "/api/v1/persistentvolumes")
          return {
            body: {
              apiVersion: "v1",
              kind: "PersistentVolumeList",
              metadata: {},
              items: [
                {
                  metadata: { name: "pv-a" },
                  spec: { capacity: { storage: "10Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: "standard" },
                  status: { phase: "Available" },
                },
              ],
            },
          };
        return undefined;
      });
    });
    after(() => cluster.close());

    it("through the context and cluster the stack's kubernetes config selects", async () => {
      // The kubeconfig's current context points nowhere: only the stack's selection reaches the cluster.
      const kubeconfig = cluster.kubeconfig("elsewhere");
      for (const selection of [
        { kubeconfig, context: "here" },
        { kubeconfig, cluster: "local" },
      ]) {
        cluster.requests.length = 0;
        const storage = await readClusterStorage(selection, "dot-ai", CLAIM);
        assert.deepStrictEqual(storage, {
          classes: [{ name: "standard", isDefault: true, provisioner: "kubernetes.io/no-provisioner" }],
          volumes: [
            {
              name: "pv-a",
              phase: "Available",
              storageClassName: "standard",
              capacityBytes: 10 * 1024 ** 3,
              accessModes: ["ReadWriteOnce"],
              claimRef: undefined,
            },
          ],
          claimPhase: undefined,
        });
        assert.ok(cluster.requests.every((r) => r.authorization === `Bearer ${FAKE_TOKEN}`));
        assert.ok(cluster.requests.some((r) => r.path === `/api/v1/namespaces/dot-ai/persistentvolumeclaims/${CLAIM}`));
        assert.ok(judge(storage).ok);
      }
    });
  });
});

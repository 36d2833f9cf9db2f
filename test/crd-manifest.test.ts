import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";

import { bundleChartStore } from "../stacks/bundle-chart";
import { CrdConfig } from "../stacks/config";
import { loadCheckedBundle, loadCrdManifest } from "../stacks/crd-manifest";
import { FIXTURE_CRDS } from "./harness";

const fromFile = (file: string, version = "v1.6.3"): CrdConfig => ({
  install: true,
  version,
  source: { kind: "file", path: file },
  retainOnDelete: true,
});
const GATEWAY_V1 = [
  { kind: "Gateway", version: "v1" },
  { kind: "HTTPRoute", version: "v1" },
];

describe("the Gateway API manifest", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dot-ai-crds-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it("is read from gatewayApiCrdsFile, and a missing file names the setting and the path", async () => {
    assert.ok((await loadCrdManifest(fromFile(FIXTURE_CRDS))).includes("gateways.gateway.networking.k8s.io"));
    const missing = path.join(dir, "nowhere.yaml");
    await assert.rejects(
      loadCrdManifest(fromFile(missing)),
      (err: Error) =>
        err.message.startsWith(`dot-ai-gateway:gatewayApiCrdsFile: cannot read ${missing}: ENOENT`) || assert.fail(err),
    );
  });

  describe("downloaded from a release URL", () => {
    let server: http.Server;
    let base = "";
    before(async () => {
      server = http.createServer((req, res) => {
        if (req.url === "/v1.6.3/standard-install.yaml") res.writeHead(200).end("kind: List\n");
        else res.writeHead(404, "Not Found").end();
      });
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());
    const fromUrl = (url: string): CrdConfig => ({ ...fromFile(""), source: { kind: "url", url } });

    it("gives the file's text", async () => {
      assert.strictEqual(await loadCrdManifest(fromUrl(`${base}/v1.6.3/standard-install.yaml`)), "kind: List\n");
    });

    it("and when the download fails, says so with both ways out: a local file, or the cluster's own CRDs", async () => {
      const url = `${base}/v9.9.9/standard-install.yaml`;
      await assert.rejects(loadCrdManifest(fromUrl(url)), (err: Error) => {
        assert.match(
          err.message,
          new RegExp(`^Cannot download the Gateway API v1\\.6\\.3 CRDs from ${url}: HTTP 404 Not Found`),
        );
        assert.match(err.message, /Fix: .*pulumi config set dot-ai-gateway:gatewayApiCrdsFile <path>/);
        assert.match(err.message, /pulumi config set dot-ai-gateway:installCrds false/);
        return true;
      });
    });
  });

  it("that is not valid YAML is refused naming the file, the line and the column", async () => {
    const file = write("broken.yaml", "apiVersion: v1\nkind: List\n  items: []\n");
    await assert.rejects(loadCheckedBundle(fromFile(file), GATEWAY_V1), (err: Error) => {
      assert.match(
        err.message,
        /^The Gateway API manifest \(dot-ai-gateway:gatewayApiCrdsFile .*broken\.yaml\) cannot be read: line 3, column 8: /,
      );
      return true;
    });
  });

  it("without a single Gateway API CRD is refused (another project's manifest, or a wrong file)", async () => {
    const file = write(
      "other.yaml",
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: certificates.cert-manager.io }\nspec: { group: cert-manager.io, names: { kind: Certificate } }\n",
    );
    await assert.rejects(
      loadCheckedBundle(fromFile(file), GATEWAY_V1),
      /contains no gateway\.networking\.k8s\.io CustomResourceDefinition/,
    );
  });

  it("is accepted whole when it serves every kind at the version the program creates", async () => {
    const { objects } = await loadCheckedBundle(fromFile(FIXTURE_CRDS), [
      ...GATEWAY_V1,
      { kind: "ReferenceGrant", version: "v1" },
    ]);
    assert.deepStrictEqual(
      objects.map((o) => o.kind),
      [
        "CustomResourceDefinition",
        "CustomResourceDefinition",
        "CustomResourceDefinition",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
      ],
    );
  });

  it("that lists a version as not served does not count as serving it", async () => {
    const file = write(
      "unserved.yaml",
      fs.readFileSync(FIXTURE_CRDS, "utf8").replace(/(- name: v1\n\s+served: )true/g, "$1false"),
    );
    await assert.rejects(
      loadCheckedBundle(fromFile(file), GATEWAY_V1),
      /does not serve Gateway gateway\.networking\.k8s\.io\/v1, HTTPRoute/,
    );
  });
});

describe("a bundle read again", () => {
  it("is parsed once per content: later runs read the parsed objects, and a changed file is parsed anew", async () => {
    const saved = bundleChartStore.root;
    bundleChartStore.root = fs.mkdtempSync(path.join(os.tmpdir(), "parsed-bundle-"));
    try {
      const first = await loadCheckedBundle(fromFile(FIXTURE_CRDS), GATEWAY_V1);
      const kept = fs.readdirSync(bundleChartStore.root).filter((f) => /^manifest-[0-9a-f]{64}\.json$/.test(f));
      assert.strictEqual(kept.length, 1);
      const again = await loadCheckedBundle(fromFile(FIXTURE_CRDS), GATEWAY_V1);
      assert.deepStrictEqual(again.objects, first.objects);
      const edited = path.join(bundleChartStore.root, "edited.yaml");
      fs.writeFileSync(edited, fs.readFileSync(FIXTURE_CRDS, "utf8") + "\n# a comment\n");
      await loadCheckedBundle(fromFile(edited), GATEWAY_V1);
      assert.strictEqual(fs.readdirSync(bundleChartStore.root).filter((f) => f.startsWith("manifest-")).length, 2);
    } finally {
      bundleChartStore.root = saved;
    }
  });
});

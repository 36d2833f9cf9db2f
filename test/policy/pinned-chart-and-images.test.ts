import * as assert from "assert";

import { NAME, policy } from "../../policy/pinned-chart-and-images";
import { T, referenceValues, release, validateResource } from "./support";

describe(`policy ${NAME}`, () => {
  it("is advisory", () => assert.strictEqual(policy.enforcementLevel, "advisory"));

  it("passes a remote chart with a version, and a local package without one", async () => {
    assert.deepStrictEqual(await validateResource(policy, release(referenceValues())), []);
    const local = release(referenceValues(), { chart: "/repo/test/charts/dot-ai-2.2.2.tgz", version: undefined });
    assert.deepStrictEqual(await validateResource(policy, local), []);
  });

  it("flags a remote chart without a version (oci, https, or a repository)", async () => {
    for (const extra of [
      { version: undefined },
      { version: "" },
      { chart: "https://charts.example.com/dot-ai-2.2.2.tgz", version: undefined },
      { chart: "dot-ai", repositoryOpts: { repo: "https://charts.example.com" }, version: undefined },
    ]) {
      const violations = await validateResource(policy, release(referenceValues(), extra));
      assert.strictEqual(violations.length, 1, JSON.stringify(extra));
      assert.match(violations[0].message, /has no version/);
    }
  });

  it("flags latest and empty tags under an overridden repository, anywhere in the values", async () => {
    const values = {
      ...referenceValues(),
      image: { repository: "registry.example.com/dot-ai", tag: "" },
      qdrant: { enabled: true, image: { tag: "latest" } },
      plugins: [{ image: "ghcr.io/acme/tools:latest" }, { image: "ghcr.io/acme/other" }],
    };
    const violations = await validateResource(policy, release(values));
    assert.strictEqual(violations.length, 1);
    const { message } = violations[0];
    assert.match(message, /image: repository is overridden \(registry\.example\.com\/dot-ai\) but the tag is empty/);
    assert.match(message, /qdrant\.image: tag is latest/);
    assert.match(message, /plugins\[0\]\.image: 'ghcr\.io\/acme\/tools:latest' uses the tag latest/);
    assert.match(message, /plugins\[1\]\.image: 'ghcr\.io\/acme\/other' has no tag/);
  });

  it("passes pinned tags, digests and the chart's own image defaults", async () => {
    const values = {
      ...referenceValues(),
      image: { repository: "registry.example.com/dot-ai", tag: "2.2.1" },
      qdrant: { image: { repository: "qdrant/qdrant", digest: "sha256:0123" } },
      tools: { image: "python:3.12-slim" },
      other: { image: { pullPolicy: "IfNotPresent" } },
    };
    assert.deepStrictEqual(await validateResource(policy, release(values)), []);
    assert.deepStrictEqual(await validateResource(policy, { type: T.namespace, props: { image: "x:latest" } }), []);
  });
});

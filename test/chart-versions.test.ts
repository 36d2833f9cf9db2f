import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";

import { managedProvidersOf } from "../components/chart-contract";
import { readLocalChartVersion, readPackagedChartFile } from "../stacks/local-chart";
import {
  APP_RELEASE,
  KEYS,
  REAL_CHARTS,
  RealChartVersion,
  StackRun,
  TYPES,
  devSpec,
  one,
  prodSpec,
  runStack,
} from "./harness";

const VERSIONS = Object.keys(REAL_CHARTS) as RealChartVersion[];

/** The dotted paths of every value we pass; objects whose chart default is `{}` and lists are leaves. */
function leafPaths(value: unknown, defaults: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [prefix];
  if (typeof defaults === "object" && defaults !== null && Object.keys(defaults).length === 0) return [prefix];
  return Object.entries(value).flatMap(([k, v]) =>
    leafPaths(v, (defaults as Record<string, unknown> | undefined)?.[k], prefix ? `${prefix}.${k}` : k),
  );
}

function hasPath(doc: unknown, dotted: string): boolean {
  let node = doc;
  for (const part of dotted.split(".")) {
    if (typeof node !== "object" || node === null || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

function chartDefaults(version: RealChartVersion): unknown {
  return load(readPackagedChartFile(REAL_CHARTS[version], "values.yaml")!, { schema: CORE_SCHEMA });
}

describe("chart versions", () => {
  const runs = {} as Record<RealChartVersion, { dev: StackRun; prod: StackRun }>;
  before(async () => {
    for (const version of VERSIONS) {
      const dev = await runStack(devSpec({ chart: REAL_CHARTS[version], https: "true" }));
      const prod = await runStack(prodSpec({ chart: REAL_CHARTS[version] }));
      for (const run of [dev, prod]) if (run.error) throw run.error;
      runs[version] = { dev, prod };
    }
  });
  const values = (run: StackRun) => one(run, TYPES.release, APP_RELEASE).inputs.values;

  for (const version of VERSIONS) {
    it(`passes ${version} only values its own values.yaml declares, in both patterns`, () => {
      const defaults = chartDefaults(version);
      for (const run of [runs[version].dev, runs[version].prod]) {
        const unknown = leafPaths(values(run), defaults).filter((p) => !hasPath(defaults, p));
        assert.deepStrictEqual(unknown, [], `keys ${version} does not have`);
      }
    });
  }

  it("sets deployment.method only for 0.x: the key is gone from 1.0.0 on", () => {
    assert.deepStrictEqual(values(runs["0.170.0"].prod).deployment, { method: "standard" });
    assert.strictEqual(values(runs["1.25.0"].prod).deployment, undefined);
    assert.strictEqual(values(runs["2.2.2"].prod).deployment, undefined);
  });

  it("names every secrets entry the version has, and the Secret under exactly those key names", () => {
    const expected: Record<RealChartVersion, string[]> = {
      "0.170.0": ["anthropic", "auth", "google", "moonshot", "name", "openai", "xai"],
      "1.25.0": ["alibaba", "anthropic", "auth", "copilot", "google", "moonshot", "name", "openai", "xai"],
      "2.2.2": ["alibaba", "anthropic", "auth", "copilot", "google", "moonshot", "name", "openai", "xai"],
    };
    for (const version of VERSIONS) {
      const secrets = values(runs[version].prod).secrets;
      assert.deepStrictEqual(Object.keys(secrets).sort(), expected[version], version);
      // Our key names are the chart's own defaults, so a release without our values reads them too.
      const defaults = (chartDefaults(version) as { secrets: Record<string, { keyName?: string }> }).secrets;
      for (const [entry, v] of Object.entries(secrets)) {
        if (entry !== "name") assert.strictEqual((v as { keyName: string }).keyName, defaults[entry].keyName);
      }
      const data = one(runs[version].prod, TYPES.secret).inputs.stringData;
      const keyNames = Object.values(secrets).flatMap((v) =>
        typeof v === "object" ? [(v as { keyName: string }).keyName] : [],
      );
      for (const key of Object.keys(data)) assert.ok(keyNames.includes(key), `${version}: Secret key ${key} is read`);
    }
  });

  it("deploys kimi with the Moonshot key on every version, alibaba and copilot from 1.x", async () => {
    const cases = [
      { chart: REAL_CHARTS["0.170.0"], provider: "kimi", config: "moonshotApiKey", key: "moonshot-api-key" },
      { chart: REAL_CHARTS["2.2.2"], provider: "kimi", config: "moonshotApiKey", key: "moonshot-api-key" },
      { chart: REAL_CHARTS["1.25.0"], provider: "alibaba", config: "alibabaApiKey", key: "alibaba-api-key" },
      { chart: REAL_CHARTS["2.2.2"], provider: "copilot", config: "copilotToken", key: "copilot-token" },
      { chart: REAL_CHARTS["2.2.2"], provider: "google_flash", config: "googleApiKey", key: "google-api-key" },
    ];
    for (const c of cases) {
      const run = await runStack(
        devSpec({ chart: c.chart, aiProvider: c.provider }, { ...KEYS, [c.config]: "secret-value" }),
      );
      if (run.error) throw run.error;
      assert.deepStrictEqual(values(run).ai, { provider: c.provider });
      assert.strictEqual(one(run, TYPES.secret).inputs.stringData[c.key], "secret-value", `${c.provider}: ${c.key}`);
      assert.ok(!JSON.stringify(values(run)).includes("secret-value"), "never in the values");
    }
  });

  it("deploys host without any key, warning that the MCP client must support sampling", async () => {
    const run = await runStack(devSpec({ aiProvider: "host" }, { openaiApiKey: KEYS.openaiApiKey }));
    if (run.error) throw run.error;
    assert.deepStrictEqual(values(run).ai, { provider: "host" });
    assert.ok(run.warnings.some((w) => /MCP sampling/.test(w)));
  });

  it("manages the providers each version's server knows", () => {
    const always = ["anthropic", "anthropic_opus", "anthropic_haiku", "openai", "google", "kimi", "xai", "host"];
    assert.deepStrictEqual(managedProvidersOf("0.170.0").sort(), [...always, "kimi_thinking"].sort());
    for (const version of ["1.25.0", "2.2.2"]) {
      assert.deepStrictEqual(
        managedProvidersOf(version).sort(),
        [...always, "google_flash", "alibaba", "copilot"].sort(),
        version,
      );
    }
  });

  it("warns when the chart is newer than the newest verified version", async () => {
    const run = await runStack(prodSpec({ chart: "", chartVersion: "2.3.0" }));
    if (run.error) throw run.error;
    assert.ok(
      run.warnings.some((w) =>
        /chart 2\.3\.0 is newer than 2\.2\.2, the newest version this program was verified with/.test(w),
      ),
    );
    assert.strictEqual(one(run, TYPES.release, APP_RELEASE).inputs.version, "2.3.0");
  });

  it("reads the version of each vendored chart package from the Chart.yaml inside it", () => {
    for (const version of VERSIONS) assert.deepStrictEqual(readLocalChartVersion(REAL_CHARTS[version]), { version });
  });

  it("takes a chart directory's version from its Chart.yaml and does not pass a version to Helm", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dot-ai-chart-"));
    try {
      fs.writeFileSync(path.join(dir, "Chart.yaml"), "apiVersion: v2\nname: dot-ai\nversion: 1.25.0\n");
      const run = await runStack(devSpec({ chart: dir }));
      if (run.error) throw run.error;
      const release = one(run, TYPES.release, APP_RELEASE);
      assert.strictEqual(release.inputs.chart, dir);
      assert.strictEqual(release.inputs.version, undefined);
      assert.strictEqual(values(run).secrets.copilot.keyName, "copilot-token", "1.25.0 rules apply");
      assert.strictEqual(values(run).deployment, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes a packaged chart to Helm by its path, without a version", () => {
    const release = one(runs["0.170.0"].prod, TYPES.release, APP_RELEASE);
    assert.strictEqual(release.inputs.chart, REAL_CHARTS["0.170.0"]);
    assert.strictEqual(release.inputs.version, undefined);
  });
});

describe("the vendored chart packages", () => {
  // The upstream release pipeline sets both image tags to the release; a package made from the tag
  // alone runs the previous release's images (an earlier copy here did).
  for (const [version, file] of Object.entries(REAL_CHARTS)) {
    it(`${version} runs its own release's images (dot-ai${version.startsWith("0.") ? "" : " and agentic-tools"})`, () => {
      const values = load(readPackagedChartFile(file, "values.yaml") ?? "", { schema: CORE_SCHEMA }) as {
        image: { tag: string };
        plugins?: Record<string, { image?: { tag: string } }>;
      };
      assert.strictEqual(values.image.tag, version);
      if (values.plugins) assert.strictEqual(values.plugins["agentic-tools"].image?.tag, version);
    });
  }
});

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";

import { formatProblems, parseConfig } from "../stacks/config";
import {
  FIXTURE_CRDS,
  KEYS,
  REAL_CHARTS,
  REPO_ROOT,
  StackSpec,
  devSpec,
  platformSpec,
  parseSpec as parse,
  prodSpec,
  runStack,
} from "./harness";

interface BadCase {
  what: string;
  spec: StackSpec;
  /** Config key the error must name, and a fragment of the explanation. */
  key: string;
  says: RegExp;
}

const BAD: BadCase[] = [
  { what: "an unknown mode", spec: prodSpec({ mode: "shared" }), key: "mode", says: /'shared' is not a mode/ },
  {
    what: "a stack with no default mode and none set",
    spec: { ...devSpec(), stack: "staging" },
    key: "mode",
    says: /stack 'staging' has no default/,
  },
  {
    what: "creation mode on prod",
    spec: prodSpec({ mode: "creation" }),
    key: "mode",
    says: /'creation' on the prod stack/,
  },
  {
    what: "no gatewayClassName in creation mode",
    spec: devSpec({ gatewayClassName: "" }),
    key: "gatewayClassName",
    says: /cannot create a Gateway without a GatewayClass/,
  },
  { what: "no hostname", spec: devSpec({ hostname: "" }), key: "hostname", says: /is not set/ },
  {
    what: "an uppercase hostname",
    spec: devSpec({ hostname: "Dot-AI.example.com" }),
    key: "hostname",
    says: /lowercase/,
  },
  { what: "a wildcard hostname", spec: devSpec({ hostname: "*.example.com" }), key: "hostname", says: /wildcard/ },
  {
    what: "a single-label hostname",
    spec: devSpec({ hostname: "localhost" }),
    key: "hostname",
    says: /at least two labels/,
  },
  {
    what: "a hostname label with an underscore",
    spec: devSpec({ hostname: "dot_ai.example.com" }),
    key: "hostname",
    says: /RFC 1123/,
  },
  {
    what: "a domain given with its wildcard",
    spec: prodSpec({ domain: "*.example.com" }),
    key: "domain",
    says: /without the wildcard/,
  },
  {
    what: "a domain whose wildcard does not cover the hostname",
    spec: prodSpec({ hostname: "a.b.example.com", domain: "example.com" }),
    key: "domain",
    says: /wildcard matches exactly one label/,
  },
  {
    what: "HTTPS without a hostname or domain",
    spec: prodSpec({ hostname: "" }),
    key: "domain",
    says: /needed for HTTPS/,
  },
  {
    what: "a malformed request timeout",
    spec: devSpec({ requestTimeout: "1 hour" }),
    key: "requestTimeout",
    says: /not a Gateway API duration/,
  },
  {
    what: "a timeout with too many digits",
    spec: devSpec({ requestTimeout: "360000s" }),
    key: "requestTimeout",
    says: /not a Gateway API duration/,
  },
  {
    what: "backendRequest longer than request",
    spec: devSpec({ requestTimeout: "10m", backendRequestTimeout: "1h" }),
    key: "backendRequestTimeout",
    says: /backendRequest <= request/,
  },
  {
    what: "a chart version below 0.170.0",
    spec: prodSpec({ chart: "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai", chartVersion: "0.166.0" }),
    key: "chartVersion",
    says: /render no HTTPRoute at all/,
  },
  {
    what: "a chart version that is not semver",
    spec: prodSpec({ chart: "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai", chartVersion: "latest" }),
    key: "chartVersion",
    says: /not a semantic version/,
  },
  {
    what: "a local chart path that is not a chart",
    spec: prodSpec({ chart: "test/fixtures" }),
    key: "chart",
    says: /no Chart.yaml/,
  },
  {
    what: "a chartVersion that contradicts the local chart",
    spec: prodSpec({ chartVersion: "0.171.0" }),
    key: "chartVersion",
    says: /local chart .* is version 2.2.2/,
  },
  {
    what: "a file that is not a packaged chart",
    spec: prodSpec({ chart: "package.json" }),
    key: "chart",
    says: /not a packaged chart/,
  },
  {
    what: "a local chart below 0.170.0",
    spec: prodSpec({ chart: "test/fixtures/old-chart" }),
    key: "chart",
    says: /older than 0.170.0/,
  },
  {
    what: "a provider newer than the chart version (alibaba on 0.170.0)",
    spec: prodSpec({ chart: "", chartVersion: "0.170.0", aiProvider: "alibaba" }, { alibabaApiKey: "k" }),
    key: "aiProvider",
    says: /^'alibaba' needs chart 1\.12\.0 or later; chartVersion is 0\.170\.0$/,
  },
  {
    what: "a provider newer than a local chart package (copilot in the 0.170.0 .tgz)",
    spec: prodSpec({ chart: "test/charts/dot-ai-0.170.0.tgz", aiProvider: "copilot" }, { copilotToken: "t" }),
    key: "aiProvider",
    says: /'copilot' needs chart 1\.20\.0 or later; the local chart .*dot-ai-0\.170\.0\.tgz is version 0\.170\.0/,
  },
  {
    what: "google_flash on 0.170.0",
    spec: prodSpec({ chart: "test/charts/dot-ai-0.170.0.tgz", aiProvider: "google_flash" }, { googleApiKey: "k" }),
    key: "aiProvider",
    says: /needs chart 0\.171\.0 or later/,
  },
  {
    what: "a provider the chart version no longer knows (kimi_thinking on 2.2.2)",
    spec: devSpec({ aiProvider: "kimi_thinking" }, { moonshotApiKey: "k" }),
    key: "aiProvider",
    says: /no longer known from chart 1\.8\.0 on \(replaced by 'kimi'\)/,
  },
  {
    what: "an API key whose secrets entry the chart version lacks (alibabaApiKey on 0.170.0)",
    spec: devSpec({ chart: "test/charts/dot-ai-0.170.0.tgz" }, { ...KEYS, alibabaApiKey: "k" }),
    key: "alibabaApiKey",
    says: /needs chart 1\.12\.0 or later \(the chart's secrets\.alibaba entry first appears there\)/,
  },
  {
    what: "the custom provider, which needs an endpoint URL as well as a key",
    spec: devSpec({ aiProvider: "custom" }),
    key: "aiProvider",
    says: /ai\.customEndpoint\.baseURL/,
  },
  {
    what: "kimi without the Moonshot key",
    spec: devSpec({ aiProvider: "kimi" }),
    key: "moonshotApiKey",
    says: /aiProvider 'kimi' needs it/,
  },
  { what: "an invalid namespace", spec: devSpec({ namespace: "Dot.AI" }), key: "namespace", says: /RFC 1123 label/ },
  {
    what: "a namespace name too long",
    spec: devSpec({ namespace: "n".repeat(64) }),
    key: "namespace",
    says: /limit is 63/,
  },
  {
    what: "a release name over Helm's 53 characters",
    spec: devSpec({ releaseName: "r".repeat(54) }),
    key: "releaseName",
    says: /limit is 53/,
  },
  {
    what: "an invalid Gateway namespace",
    spec: prodSpec({ gatewayNamespace: "gateway_system" }),
    key: "gatewayNamespace",
    says: /RFC 1123 label/,
  },
  {
    what: "allowedRoutes outside All/Same/Selector",
    spec: prodSpec({ allowedRoutes: "Everyone" }),
    key: "allowedRoutes",
    says: /not one of All, Same, Selector/,
  },
  {
    what: "allowedRoutes Same for a route in another namespace",
    spec: prodSpec({ allowedRoutes: "Same" }),
    key: "allowedRoutes",
    says: /could never attach/,
  },
  {
    what: "the app in the Gateway's namespace",
    spec: prodSpec({ namespace: "gateway-system" }),
    key: "namespace",
    says: /same as the shared Gateway's namespace/,
  },
  {
    what: "shared-Gateway settings in creation mode",
    spec: devSpec({ gatewayName: "x" }),
    key: "gatewayName",
    says: /applies to the shared Gateway/,
  },
  {
    what: "an unknown AI provider",
    spec: devSpec({ aiProvider: "skynet" }),
    key: "aiProvider",
    says: /not a provider the chart knows/,
  },
  {
    what: "a provider whose credentials are not managed",
    spec: devSpec({ aiProvider: "amazon_bedrock" }),
    key: "aiProvider",
    says: /does not manage its credentials/,
  },
  {
    what: "the chosen provider without its API key",
    spec: devSpec({ aiProvider: "google" }),
    key: "googleApiKey",
    says: /aiProvider 'google' needs it/,
  },
  { what: "no API key at all", spec: devSpec({}, {}), key: "anthropicApiKey", says: /is not set/ },
  {
    what: "an API key in plaintext",
    spec: {
      ...devSpec({}, { openaiApiKey: KEYS.openaiApiKey }),
      config: { ...devSpec().config, anthropicApiKey: KEYS.anthropicApiKey },
    },
    key: "anthropicApiKey",
    says: /plaintext/,
  },
  {
    what: "a mistyped key",
    spec: devSpec({ hostName: "dot-ai.example.com" }),
    key: "hostName",
    says: /not a setting of this program/,
  },
  {
    what: "an API key for an unmanaged provider",
    spec: devSpec({}, { ...KEYS, mistralApiKey: "x" }),
    key: "mistralApiKey",
    says: /does not manage/,
  },
  {
    what: "a boolean that is not one",
    spec: devSpec({ installCrds: "yes" }),
    key: "installCrds",
    says: /not a boolean/,
  },
  {
    what: "a missing CRD file",
    spec: devSpec({ gatewayApiCrdsFile: "does/not/exist.yaml" }),
    key: "gatewayApiCrdsFile",
    says: /does not exist/,
  },
  {
    what: "a malformed Gateway API version",
    spec: devSpec({ gatewayApiVersion: "1.2" }),
    key: "gatewayApiVersion",
    says: /release tag/,
  },
  {
    what: "a Gateway API bundle that does not serve Gateway v1 (older than v1.0.0)",
    spec: devSpec({ gatewayApiVersion: "v0.8.1" }),
    key: "gatewayApiVersion",
    says: /does not serve gateway.networking.k8s.io\/v1 Gateways and HTTPRoutes \(served from v1.0.0 on\)/,
  },
  {
    what: "a cluster's own Gateway API older than v1.0.0, even when the program does not install it",
    spec: prodSpec({ installCrds: "false", gatewayApiVersion: "v0.8.1" }),
    key: "gatewayApiVersion",
    says: /does not serve/,
  },
  {
    what: "a wait timeout that is not a Gateway API duration",
    spec: prodSpec({ waitTimeout: "10 minutes" }),
    key: "waitTimeout",
    says: /not a Gateway API duration/,
  },
  {
    what: "a wait timeout under a second",
    spec: prodSpec({ waitTimeout: "500ms" }),
    key: "waitTimeout",
    says: /at least 1s/,
  },
  {
    what: "a wait timeout in creation mode that is not a Gateway API duration",
    spec: devSpec({ waitTimeout: "1 minute" }),
    key: "waitTimeout",
    says: /not a Gateway API duration/,
  },
  {
    what: "plain HTTP (https false) without saying so in allowPlaintextHttp",
    spec: prodSpec({ https: "false" }),
    key: "https",
    says: /plain HTTP only: the bearer token .* cross the network unencrypted/,
  },
  {
    what: "an agent reach that is not one of the choices",
    spec: devSpec({ agentAccess: "admin" }),
    key: "agentAccess",
    says: /'admin' is not one of chart, read, read-write-namespaces/,
  },
  {
    what: "write namespaces missing for agentAccess read-write-namespaces",
    spec: devSpec({ agentAccess: "read-write-namespaces" }),
    key: "agentWriteNamespaces",
    says: /is not set, but agentAccess read-write-namespaces writes only in the namespaces it lists/,
  },
  {
    what: "write namespaces that would do nothing with the chart's own access",
    spec: devSpec({ agentWriteNamespaces: '["apps"]' }),
    key: "agentWriteNamespaces",
    says: /agentAccess is 'chart', which writes everywhere/,
  },
  {
    what: "a write namespace that is not a namespace name",
    spec: devSpec({ agentAccess: "read-write-namespaces", agentWriteNamespaces: '["Apps"]' }),
    key: "agentWriteNamespaces",
    says: /entry 'Apps'/,
  },
  {
    what: "an app namespace too long for the name of the creation pattern's redirect namespace",
    spec: devSpec({ namespace: "n".repeat(50) }),
    key: "namespace",
    says: /too long for the namespace of the chart Gateway's redirect to HTTPS/,
  },
  {
    what: "annotations that are not a JSON object",
    spec: devSpec({ gatewayAnnotations: "[1]" }),
    key: "gatewayAnnotations",
    says: /JSON object/,
  },
  {
    what: "a qdrant URL that is not a URL",
    spec: devSpec({ qdrantUrl: "qdrant:6333" }),
    key: "qdrantUrl",
    says: /not an http\(s\) URL/,
  },
  // Taking over a release (migrateFrom); what the release itself holds: test/migration.test.ts.
  {
    what: "a migration phase without migrateFrom",
    spec: prodSpec({ migrationPhase: "gateway" }),
    key: "migrationPhase",
    says: /migrateFrom is not/,
  },
  {
    what: "an unknown phase",
    spec: prodSpec({ migrateFrom: "dot-ai/dot-ai", migrationPhase: "done" }),
    key: "migrationPhase",
    says: /'done' is not one of both, gateway/,
  },
  {
    what: "not <namespace>/<release>",
    spec: prodSpec({ migrateFrom: "dot-ai" }),
    key: "migrateFrom",
    says: /is not <namespace>\/<release>/,
  },
  {
    what: "a namespace other than migrateFrom's",
    spec: prodSpec({ migrateFrom: "apps/dot-ai", namespace: "dot-ai" }),
    key: "namespace",
    says: /migrateFrom names 'apps'/,
  },
  {
    what: "a host the shared Gateway's wildcard certificate does not cover",
    spec: prodSpec({ migrateFrom: "dot-ai/dot-ai", hostname: "dot-ai.other.org", domain: "example.com" }),
    key: "domain",
    says: /does not cover hostname 'dot-ai\.other\.org'/,
  },
  {
    what: "the creation pattern (no Gateway while the Ingress serves)",
    spec: devSpec({ migrateFrom: "dot-ai/dot-ai" }),
    key: "migrateFrom",
    says: /creation-pattern stack/,
  },
  {
    what: "a platform stack",
    spec: { ...platformSpec(), config: { ...platformSpec().config, migrateFrom: "dot-ai/dot-ai" } },
    key: "migrateFrom",
    says: /platform stack, which deploys no dot-ai/,
  },
];

describe("configuration", () => {
  describe("is refused, naming the key and the fix, with nothing registered, for", () => {
    for (const bad of BAD) {
      it(bad.what, async () => {
        const result = parse(bad.spec);
        assert.strictEqual(result.ok, false, "must be refused");
        const problem = !result.ok && result.problems.find((p) => p.key === bad.key);
        assert.ok(problem, `a problem naming ${bad.key}; got: ${!result.ok && JSON.stringify(result.problems)}`);
        assert.match(problem.problem, bad.says);
        assert.match(problem.fix, /pulumi config (set|rm)/);

        const run = await runStack(bad.spec);
        assert.ok(run.error, "the program stops");
        assert.match(run.error.message, new RegExp(`dot-ai-gateway:${bad.key} `));
        assert.deepStrictEqual(run.resources, [], "nothing is registered");
      });
    }
  });

  it("reports every problem at once", () => {
    const result = parse(devSpec({ hostname: "Bad_Host", requestTimeout: "forever", releaseName: "R" }, {}));
    assert.ok(!result.ok);
    const keys = result.problems.map((p) => p.key).sort();
    assert.deepStrictEqual(keys, ["anthropicApiKey", "hostname", "releaseName", "requestTimeout"]);
    const message = formatProblems(result.problems);
    assert.match(message, /4 problems\); nothing was deployed/);
    assert.match(message, /pulumi config set --secret dot-ai-gateway:anthropicApiKey/);
  });

  it("never echoes a secret value in an error", () => {
    const result = parse({ ...devSpec({ anthropicApiKey: KEYS.anthropicApiKey }, {}) });
    assert.ok(!result.ok);
    assert.ok(!formatProblems(result.problems).includes(KEYS.anthropicApiKey));
  });

  it("warns, without failing, when embeddings will be off for lack of an OpenAI key", () => {
    const result = parse(devSpec({}, { anthropicApiKey: KEYS.anthropicApiKey }));
    assert.ok(result.ok);
    assert.ok(result.warnings.some((w) => /openaiApiKey is not set: dot-ai runs without embeddings/.test(w)));
  });

  it("warns when CRDs would be deleted with the stack", () => {
    const result = parse(devSpec({ retainCrds: "false" }));
    assert.ok(result.ok && result.warnings.some((w) => /deletes the Gateway API CRDs/.test(w)));
  });

  it("defaults to the upstream v1.6.3 standard bundle, 10-minute waits, the published chart at 2.2.2 and the guide's timeouts", () => {
    const result = parse({
      stack: "prod",
      config: { hostname: "dot-ai.example.com", gatewayClassName: "nginx" },
      secrets: KEYS,
    });
    assert.ok(result.ok && result.config.role === "combined", "prod is a combined stack by default");
    const c = result.config;
    assert.deepStrictEqual(c.crds.source, {
      kind: "url",
      url: "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml",
    });
    assert.strictEqual(c.crds.retainOnDelete, true);
    assert.strictEqual(c.app.chart, "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai");
    assert.strictEqual(c.app.chartVersion, "2.2.2");
    assert.deepStrictEqual(c.app.timeouts, { request: "3600s", backendRequest: "3600s" });
    assert.strictEqual(c.https, true);
    assert.ok(c.mode === "reference");
    assert.strictEqual(c.sharedGateway.tls?.domain, "example.com");
    assert.strictEqual(c.sharedGateway.allowedRoutes, "All");
    assert.strictEqual(c.sharedGateway.waitTimeoutSeconds, 600);
  });

  it("reads waitTimeout as a Gateway API duration, in whole seconds", () => {
    for (const [value, seconds] of [
      ["20s", 20],
      ["1m30s", 90],
      ["1h", 3600],
      ["1500ms", 2],
    ] as const) {
      const result = parse(prodSpec({ waitTimeout: value }));
      assert.ok(result.ok && result.config.role === "combined" && result.config.mode === "reference");
      assert.strictEqual(result.config.sharedGateway.waitTimeoutSeconds, seconds, value);
    }
  });

  it("keeps older Gateway API bundles selectable, and warns about one newer than verified", () => {
    assert.ok(parse(prodSpec({ gatewayApiVersion: "v1.2.1" })).ok);
    assert.ok(parse(prodSpec({ gatewayApiVersion: "v1.0.0" })).ok);
    const newer = parse(prodSpec({ gatewayApiVersion: "v1.7.0" }));
    assert.ok(newer.ok);
    assert.ok(newer.warnings.some((w) => /v1.7.0 is newer than the newest Gateway API verified .*\(v1.6.3\)/.test(w)));
    assert.ok(!parse(prodSpec()).warnings.some((w) => /gatewayApiVersion/.test(w)));
  });

  it("gives Helm a chart version as the registry tags it: a leading v and spaces dropped", () => {
    for (const written of ["v2.2.2", " 2.2.2 "]) {
      const result = parse(prodSpec({ chart: "oci://ghcr.io/vfarcic/dot-ai/charts/dot-ai", chartVersion: written }));
      assert.ok(result.ok && result.config.role === "combined", written);
      assert.strictEqual(result.config.app.chartVersion, "2.2.2", written);
    }
  });

  it("takes a packaged chart's version from the Chart.yaml inside it", () => {
    const result = parse(prodSpec({ chart: "test/charts/dot-ai-1.25.0.tgz" }));
    assert.ok(result.ok && result.config.role === "combined");
    assert.strictEqual(result.config.app.chart, REAL_CHARTS["1.25.0"]);
    assert.strictEqual(result.config.app.chartVersion, "1.25.0");
    assert.deepStrictEqual(result.config.crds.source, { kind: "file", path: FIXTURE_CRDS });
  });

  it("allows creation mode on prod only when explicitly asked to", () => {
    assert.ok(parse(prodSpec({ mode: "creation", allowCreationModeOnProd: "true" })).ok);
  });
});

describe("the committed stack files", () => {
  for (const [stack, mode] of [
    ["dev", "creation"],
    ["prod", "reference"],
  ] as const) {
    it(`Pulumi.${stack}.yaml is a valid ${mode} configuration once the API keys are set as secrets`, () => {
      const file = load(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8"), {
        schema: CORE_SCHEMA,
      }) as {
        config: Record<string, string>;
      };
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(file.config))
        values[key.replace(/^dot-ai-gateway:/, "")] = String(value);
      assert.ok(!Object.keys(values).some((k) => /ApiKey$/.test(k)), "no API key in a committed file");
      const result = parseConfig({
        stack,
        values: { ...values, ...KEYS },
        secretKeys: new Set(Object.keys(KEYS)),
        baseDir: REPO_ROOT,
      });
      assert.ok(result.ok, !result.ok ? formatProblems(result.problems) : "");
      assert.strictEqual(result.config.role, "combined");
      assert.strictEqual(result.config.mode, mode);
    });
  }
});

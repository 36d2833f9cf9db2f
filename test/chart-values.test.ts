import * as assert from "assert";

import { AUTH_KEY_NAME, SECRETS_NAME } from "../components/chart-contract";
import {
  ChartSettings,
  SECRETS_REVISION_ENV,
  chartValues,
  secretData,
  secretsRevision,
  unmanagedValues,
} from "../components/chart-values";

const REFERENCE: ChartSettings = {
  releaseName: "dot-ai",
  hostname: "dot-ai.example.com",
  aiProvider: "anthropic",
  timeouts: { request: "3600s", backendRequest: "3600s" },
  gateway: { pattern: "reference", gatewayName: "cluster-gateway", gatewayNamespace: "gateway-system" },
};
const CREATION: ChartSettings = {
  ...REFERENCE,
  gateway: {
    pattern: "creation",
    className: "eg",
    annotations: { "external-dns.alpha.kubernetes.io/hostname": "dot-ai.example.com", "a.example.com/first": "1" },
    https: { secretName: "dot-ai-tls" },
    plaintextHttp: false,
  },
};
type Values = Record<string, Record<string, unknown>>;
const values = (version: string, settings = REFERENCE, revision = "rev") =>
  chartValues(version, settings, revision) as Values;

describe("the chart's values", () => {
  it("set only keys an adopted release does not keep, in every pattern, version and agent setting", () => {
    const plainHttp: ChartSettings = {
      ...CREATION,
      gateway: { ...CREATION.gateway, plaintextHttp: true },
    } as ChartSettings;
    const variants: ChartSettings[] = [
      REFERENCE,
      CREATION,
      plainHttp,
      { ...REFERENCE, aiModel: "m", qdrantUrl: "http://qdrant:6333", serviceAccountName: "agent" },
      { ...REFERENCE, adopted: { ingress: { host: "h" }, values: {}, phase: "both" } },
    ];
    for (const version of ["0.170.0", "1.25.0", "2.2.2"])
      for (const settings of variants) assert.deepStrictEqual(unmanagedValues(values(version, settings)), {}, version);
  });

  it("of an adopted release keep its other values, and give its Ingress or the program's route per phase", () => {
    const adopted = {
      ingress: { host: "h", className: "nginx" },
      values: { dex: { enabled: true }, ai: { provider: "x" }, extraEnv: [] },
      phase: "both" as const,
    };
    const both = values("2.2.2", { ...REFERENCE, adopted });
    assert.deepStrictEqual(both.dex, { enabled: true });
    assert.deepStrictEqual(both.ai, { provider: "anthropic" });
    assert.deepStrictEqual(both.ingress, { host: "h", className: "nginx", enabled: true });
    assert.strictEqual(both.gateway, undefined);
    const gateway = values("2.2.2", { ...REFERENCE, adopted: { ...adopted, phase: "gateway" } });
    assert.deepStrictEqual(gateway.ingress, { host: "h", className: "nginx", enabled: false });
    assert.strictEqual(gateway.gateway.name, "cluster-gateway");
  });

  it("pass deployment.method to 0.x only; the key is gone from 1.0.0 on", () => {
    assert.deepStrictEqual(values("0.170.0").deployment, { method: "standard" });
    for (const version of ["1.0.0", "1.0.1", "2.2.2"])
      assert.strictEqual(values(version).deployment, undefined, version);
  });

  it("name only the secrets entries the version has: alibaba from 1.12.0, copilot from 1.20.0", () => {
    const entries = (version: string) => Object.keys(values(version).secrets).sort();
    const base = ["anthropic", "auth", "google", "moonshot", "name", "openai", "xai"];
    assert.deepStrictEqual(entries("0.170.0"), base);
    assert.deepStrictEqual(entries("1.12.0"), [...base, "alibaba"].sort());
    assert.deepStrictEqual(entries("1.20.0"), [...base, "alibaba", "copilot"].sort());
  });

  it("tell the chart to read every key under the name the Secret stores it", () => {
    const data = secretData("token", { anthropic: "a", alibaba: "b", copilot: "c" });
    const secrets = values("2.2.2").secrets as Record<string, { keyName?: string }> & { name: string };
    assert.strictEqual(secrets.name, SECRETS_NAME);
    assert.strictEqual(data[secrets.auth.keyName!], "token");
    assert.strictEqual(data[secrets.anthropic.keyName!], "a");
    assert.strictEqual(data[secrets.alibaba.keyName!], "b");
    assert.strictEqual(data[secrets.copilot.keyName!], "c");
    assert.deepStrictEqual(Object.keys(data), ["alibaba-api-key", "anthropic-api-key", AUTH_KEY_NAME, "copilot-token"]);
  });

  it("carry the secrets revision in the pod environment, so that a changed Secret rolls the pods", () => {
    assert.deepStrictEqual(values("2.2.2", REFERENCE, "0123456789abcdef").extraEnv, [
      { name: SECRETS_REVISION_ENV, value: "0123456789abcdef" },
    ]);
  });

  it("pass the model only when one is set, and an external Qdrant instead of the bundled one", () => {
    assert.deepStrictEqual(values("2.2.2").ai, { provider: "anthropic" });
    assert.deepStrictEqual(values("2.2.2", { ...REFERENCE, aiModel: "claude-x" }).ai, {
      provider: "anthropic",
      model: "claude-x",
    });
    assert.deepStrictEqual(values("2.2.2", { ...REFERENCE, qdrantUrl: "http://q:6333" }).qdrant, {
      enabled: false,
      external: { url: "http://q:6333" },
    });
  });

  it("list the created Gateway's annotations in one order whatever order config gave, so Helm sees no change", () => {
    const reversed: ChartSettings = {
      ...CREATION,
      gateway: {
        ...(CREATION.gateway as Extract<ChartSettings["gateway"], { pattern: "creation" }>),
        annotations: { "a.example.com/first": "1", "external-dns.alpha.kubernetes.io/hostname": "dot-ai.example.com" },
      },
    };
    const keys = (s: ChartSettings) => Object.keys(values("2.2.2", s).gateway.annotations as object);
    assert.deepStrictEqual(keys(CREATION), keys(reversed));
    assert.deepStrictEqual(JSON.stringify(values("2.2.2", CREATION)), JSON.stringify(values("2.2.2", reversed)));
  });
});

describe("the secrets revision", () => {
  const data = { [AUTH_KEY_NAME]: "token-1", "anthropic-api-key": "sk-ant-1" };

  it("is the same for the same content in any key order", () => {
    const reordered = { "anthropic-api-key": "sk-ant-1", [AUTH_KEY_NAME]: "token-1" };
    assert.strictEqual(secretsRevision(reordered), secretsRevision(data));
  });

  it("changes when the token, a key, or the set of keys changes", () => {
    const revisions = new Set([
      secretsRevision(data),
      secretsRevision({ ...data, [AUTH_KEY_NAME]: "token-2" }),
      secretsRevision({ ...data, "anthropic-api-key": "sk-ant-2" }),
      secretsRevision({ ...data, "openai-api-key": "sk-openai" }),
    ]);
    assert.strictEqual(revisions.size, 4);
  });

  it("is a short digest, 16 hex characters, fit for an environment variable", () => {
    assert.match(secretsRevision(data), /^[0-9a-f]{16}$/);
  });
});

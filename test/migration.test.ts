/**
 * Taking over a dot-ai release installed outside the program (`migrateFrom`), and the stack's own
 * release found installed but absent from its state: what is registered per phase, and every
 * refusal, each before anything is registered.
 */
import * as assert from "assert";

import { HelmRevision } from "../cluster/release-check";
import { SECRETS_REVISION_ENV } from "../components/chart-values";
import {
  APP_RELEASE,
  KEYS,
  MOCK_TOKEN,
  StackRun,
  StackSpec,
  TYPES,
  appSpec,
  byType,
  one,
  parseSpec,
  platformOutputs,
  prodSpec,
  runStack,
} from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs are arbitrary JSON
type Json = any;

const QUICK_START_TOKEN = "token-the-quick-start-set-0123456789";
const BRIDGE = "dot-ai-bridge-route";
const ROUTE_ACCEPTED = "dot-ai-route-accepted";
const HTTP_ROUTE_PATCH = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoutePatch";

/** The values `helm install` of the upstream quick start records (Helm keeps only those given). */
function quickStartValues(host = "dot-ai.example.com"): Record<string, unknown> {
  return {
    secrets: {
      anthropic: { apiKey: "sk-ant-quick" },
      openai: { apiKey: "sk-openai-quick" },
      auth: { token: QUICK_START_TOKEN },
    },
    ingress: { enabled: true, className: "nginx", host },
    resources: { limits: { memory: "2Gi" } },
  };
}

function deployed(values: Record<string, unknown>, chart = { name: "dot-ai", version: "2.2.2" }): HelmRevision[] {
  return [{ version: 1, status: "deployed", manifest: "", description: "Install complete", values, chart }];
}

/** The Secret the quick start's chart rendered (its keys, decoded). */
const QUICK_START_SECRET = {
  "auth-token": QUICK_START_TOKEN,
  "anthropic-api-key": "sk-ant-quick",
  "openai-api-key": "sk-openai-quick",
};

function migrating(config: Record<string, string> = {}, cluster: Partial<StackSpec> = {}): StackSpec {
  return {
    ...prodSpec({ migrateFrom: "dot-ai/dot-ai", ...config }),
    helmRevisions: deployed(quickStartValues()),
    releaseSecret: QUICK_START_SECRET,
    ...cluster,
  };
}

function values(run: StackRun): Record<string, Json> {
  return one(run, TYPES.release, APP_RELEASE).inputs.values as Record<string, Json>;
}

function registeredNothing(run: StackRun): void {
  assert.deepStrictEqual(
    run.resources.filter((r) => r.type !== "pulumi:pulumi:StackReference").map((r) => `${r.type} ${r.name}`),
    [],
  );
}

describe("taking over a release installed by the upstream quick start (migrateFrom)", () => {
  describe("phase both (the default)", () => {
    let run: StackRun;
    before(async () => {
      run = await runStack(migrating());
      if (run.error) throw run.error;
    });

    it("imports the release as <namespace>/<release>, under its own name", () => {
      const release = one(run, TYPES.release, APP_RELEASE);
      assert.strictEqual(release.importId, "dot-ai/dot-ai");
      assert.strictEqual(release.inputs.name, "dot-ai");
    });

    it("keeps the token the release serves: no generated token, the Secret holds the quick start's", () => {
      assert.deepStrictEqual(byType(run, TYPES.password), []);
      const secret = one(run, TYPES.secret);
      assert.strictEqual((secret.inputs.stringData as Record<string, string>)["auth-token"], QUICK_START_TOKEN);
      assert.notStrictEqual(QUICK_START_TOKEN, MOCK_TOKEN);
    });

    it("marks the Secret keep, so that Helm does not delete it when its chart stops rendering one of that name", () => {
      const annotations = (one(run, TYPES.secret).inputs.metadata as Json).annotations;
      assert.strictEqual(annotations["helm.sh/resource-policy"], "keep");
    });

    it("keeps the Ingress as installed, renders no Gateway API object, passes no secret in values", () => {
      const v = values(run);
      assert.deepStrictEqual(v.ingress, { enabled: true, className: "nginx", host: "dot-ai.example.com" });
      assert.strictEqual(v.gateway, undefined);
      assert.deepStrictEqual(v.secrets.auth, { keyName: "auth-token" });
      assert.doesNotMatch(JSON.stringify(v), /sk-ant-quick|token-the-quick-start/);
    });

    it("keeps the values the program does not set (resources), and sets its own", () => {
      const v = values(run);
      assert.deepStrictEqual(v.resources, { limits: { memory: "2Gi" } });
      assert.ok(v.extraEnv.some((e: { name: string }) => e.name === SECRETS_REVISION_ENV));
    });

    it("opens the Gateway path first: a bridge HTTPRoute for the host, to the chart's Service, that the release waits for", () => {
      const bridge = one(run, TYPES.httpRoute, BRIDGE);
      const spec = bridge.inputs.spec as Json;
      assert.deepStrictEqual(spec.parentRefs, [
        { kind: "Gateway", name: "cluster-gateway", namespace: "gateway-system" },
      ]);
      assert.deepStrictEqual(spec.hostnames, ["dot-ai.example.com"]);
      assert.deepStrictEqual(spec.rules[0].matches, [{ path: { type: "PathPrefix", value: "/" } }]);
      assert.deepStrictEqual(spec.rules[0].backendRefs, [{ name: "dot-ai", port: 3456 }]);
      assert.deepStrictEqual(spec.rules[0].timeouts, { request: "3600s", backendRequest: "3600s" });
      assert.strictEqual((bridge.inputs.metadata as Json).name, "dot-ai-bridge");
      assert.match((bridge.inputs.metadata as Json).annotations["pulumi.com/waitFor"], /Accepted/);
      assert.ok(one(run, TYPES.release, APP_RELEASE).dependencies.includes(bridge.urn));
      assert.ok(bridge.dependencies.includes(one(run, TYPES.gateway).urn), "after the Gateway it attaches to");
      assert.deepStrictEqual(byType(run, HTTP_ROUTE_PATCH), []);
    });
  });

  describe("phase gateway", () => {
    let run: StackRun;
    before(async () => {
      // The release as phase both left it: the program's values, the Ingress kept in them.
      const adopted = {
        ingress: { enabled: true, className: "nginx", host: "dot-ai.example.com" },
        secrets: { name: "dot-ai-secrets", auth: { keyName: "auth-token" } },
        extraEnv: [{ name: SECRETS_REVISION_ENV, value: "0123456789abcdef" }],
        resources: { limits: { memory: "2Gi" } },
      };
      run = await runStack(
        migrating(
          { migrationPhase: "gateway" },
          { helmRevisions: deployed(adopted), releaseSecret: { "auth-token": QUICK_START_TOKEN } },
        ),
      );
      if (run.error) throw run.error;
    });

    it("moves the release to the chart's route: gateway values on, the Ingress off (its settings kept for a rollback)", () => {
      const v = values(run);
      assert.deepStrictEqual(v.ingress, { enabled: false, className: "nginx", host: "dot-ai.example.com" });
      assert.strictEqual(v.gateway.name, "cluster-gateway");
      assert.deepStrictEqual(v.resources, { limits: { memory: "2Gi" } });
    });

    it("registers no bridge route (deleted last) and waits for the chart's route to be Accepted", () => {
      assert.deepStrictEqual(
        byType(run, TYPES.httpRoute).filter((r) => r.name === BRIDGE),
        [],
      );
      const wait = one(run, HTTP_ROUTE_PATCH, ROUTE_ACCEPTED);
      assert.strictEqual((wait.inputs.metadata as Json).name, "dot-ai");
      assert.ok(wait.dependencies.includes(one(run, TYPES.release, APP_RELEASE).urn));
      assert.ok(wait.retainOnDelete, "a rollback drops it after Helm deleted the route");
      assert.deepStrictEqual(Object.keys((wait.inputs.metadata as Json).annotations), ["pulumi.com/waitFor"]);
      assert.deepStrictEqual(wait.ignoreChanges, ["metadata.annotations"], "the constant wait is never a change");
      assert.strictEqual(wait.customTimeouts.create, "600s");
    });

    it("still serves the token it adopted", () => {
      assert.strictEqual(
        (one(run, TYPES.secret).inputs.stringData as Record<string, string>)["auth-token"],
        QUICK_START_TOKEN,
      );
    });
  });

  it("an app stack adopts too, its bridge route on the platform's Gateway", async () => {
    const spec = appSpec("team-a", { migrateFrom: "dot-ai-team-a/dot-ai-team-a" }, platformOutputs());
    const run = await runStack({
      ...spec,
      helmRevisions: deployed(quickStartValues(spec.config?.hostname)),
      releaseSecret: QUICK_START_SECRET,
    });
    if (run.error) throw run.error;
    assert.strictEqual(one(run, TYPES.release, APP_RELEASE).importId, "dot-ai-team-a/dot-ai-team-a");
    assert.strictEqual((one(run, TYPES.httpRoute, BRIDGE).inputs.spec as Json).parentRefs[0].name, "cluster-gateway");
  });

  describe("refused before anything is registered, naming the fix", () => {
    const cases: { what: string; spec: StackSpec; says: RegExp[] }[] = [
      {
        what: "no such release",
        spec: migrating({}, { helmRevisions: [] }),
        says: [/has no deployed revision/, /helm list -n dot-ai/],
      },
      {
        what: "not a dot-ai chart",
        spec: migrating({}, { helmRevisions: deployed(quickStartValues(), { name: "nginx", version: "1.0.0" }) }),
        says: [/Its chart is 'nginx' 1\.0\.0, not dot-ai/],
      },
      {
        what: "a chart older than 0.170.0",
        spec: migrating({}, { helmRevisions: deployed(quickStartValues(), { name: "dot-ai", version: "0.160.0" }) }),
        says: [/older than 0\.170\.0/, /helm upgrade dot-ai .* --version 0\.170\.0 -n dot-ai --reuse-values/],
      },
      {
        what: "an Ingress host other than the stack's hostname",
        spec: migrating({}, { helmRevisions: deployed(quickStartValues("mcp.example.com")) }),
        says: [/serves host mcp\.example\.com/, /pulumi config set dot-ai-gateway:hostname mcp\.example\.com/],
      },
      {
        what: "OAuth (Dex) on, but the stack serves plain HTTP",
        spec: migrating(
          { https: "false", allowPlaintextHttp: "true" },
          { helmRevisions: deployed({ ...quickStartValues(), dex: { enabled: true } }) },
        ),
        says: [/OAuth \(dex\.enabled\), which needs HTTPS/],
      },
      {
        what: "a credential in a value the program would keep (into the stack's state)",
        spec: migrating(
          {},
          {
            helmRevisions: deployed({
              ...quickStartValues(),
              dex: { enabled: true, config: { connectors: [{ config: { clientSecret: "dex-client-secret-value" } }] } },
            }),
          },
        ),
        says: [/hold credentials at dex\.config\.connectors\[0\]\.config\.clientSecret/, /move them into a Secret/],
      },
      {
        what: "a Secret without a token",
        spec: migrating({}, { releaseSecret: { "anthropic-api-key": "sk-ant-quick", "openai-api-key": "x" } }),
        says: [/has no 'auth-token'/, /--set secrets\.auth\.token=/],
      },
      {
        what: "a key in the Secret the stack's config does not hold",
        spec: { ...migrating(), secrets: { anthropicApiKey: KEYS.anthropicApiKey } },
        says: [/holds 'openai-api-key', which this stack's config does not/, /--secret dot-ai-gateway:openaiApiKey/],
      },
    ];
    for (const c of cases) {
      it(c.what, async () => {
        const run = await runStack(c.spec);
        assert.ok(run.error, "the program stopped");
        for (const says of c.says) assert.match(run.error.message, says);
        registeredNothing(run);
      });
    }

    it("never echoes the credential it found", async () => {
      const values = {
        ...quickStartValues(),
        dex: { config: { connectors: [{ config: { clientSecret: "dex-xyz" } }] } },
      };
      const run = await runStack(migrating({}, { helmRevisions: deployed(values) }));
      assert.ok(run.error);
      assert.ok(!run.error.message.includes("dex-xyz"));
    });

    it("every problem at once", async () => {
      const run = await runStack(
        migrating(
          {},
          {
            helmRevisions: deployed(quickStartValues("mcp.example.com"), { name: "dot-ai", version: "0.100.0" }),
            releaseSecret: {},
          },
        ),
      );
      assert.match(
        run.error?.message ?? "",
        /1\. Its chart is dot-ai 0\.100\.0[\s\S]*2\. Its Ingress serves host[\s\S]*3\. /,
      );
    });
  });

  describe("settings", () => {
    it("namespace and release name follow migrateFrom when unset", () => {
      const result = parseSpec(prodSpec({ migrateFrom: "apps/mcp" }));
      assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
      if (result.config.role === "platform") return;
      assert.strictEqual(result.config.app.namespace, "apps");
      assert.strictEqual(result.config.app.releaseName, "mcp");
      assert.deepStrictEqual(result.config.app.migration, { namespace: "apps", releaseName: "mcp", phase: "both" });
    });
  });
});

describe("a release of the stack's name already installed, without migrateFrom", () => {
  it("installed outside the program: refused before anything is registered, naming migrateFrom", async () => {
    const run = await runStack({ ...prodSpec(), helmRevisions: deployed(quickStartValues()) });
    assert.match(run.error?.message ?? "", /already exists .* and was not installed by this program/);
    assert.match(run.error?.message ?? "", /pulumi config set dot-ai-gateway:migrateFrom dot-ai\/dot-ai/);
    registeredNothing(run);
  });

  it("installed by this program (a first up killed after Helm's install): imported, so the next up converges", async () => {
    const ours = { extraEnv: [{ name: SECRETS_REVISION_ENV, value: "0123456789abcdef" }] };
    const run = await runStack({ ...prodSpec(), helmRevisions: deployed(ours) });
    if (run.error) throw run.error;
    assert.strictEqual(one(run, TYPES.release, APP_RELEASE).importId, "dot-ai/dot-ai");
    assert.strictEqual(byType(run, TYPES.password).length, 1, "the token is the stack's own");
    assert.deepStrictEqual(
      byType(run, TYPES.httpRoute).filter((r) => r.name === BRIDGE),
      [],
    );
  });

  it("none installed: no import", async () => {
    const run = await runStack(prodSpec());
    if (run.error) throw run.error;
    assert.strictEqual(one(run, TYPES.release, APP_RELEASE).importId, "");
  });
});

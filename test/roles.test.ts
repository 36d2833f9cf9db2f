/**
 * Stack roles: a platform stack owns the shared Gateway, app stacks attach to it through a
 * StackReference to the platform stack's outputs (or explicit settings), and neither touches the
 * other's objects. Run under mocks: the StackReference reads the outputs the spec gives.
 */
import * as assert from "assert";

import { checkAppAgainstPlatform, formatProblems, parseConfig, platformFactsFromOutputs } from "../stacks/config";
import {
  APP_RELEASE,
  FIXTURE_CRDS,
  KEYS,
  PLATFORM_STACK,
  REPO_ROOT,
  StackRun,
  StackSpec,
  TYPES,
  appSpec,
  byType,
  one,
  platformOutputs,
  platformSpec,
  prodSpec,
  runStack,
  BUNDLE_RELEASE_RESOURCE,
  bundleCrdNames,
  bundleRelease,
  annotation,
} from "./harness";

const LABEL = { "dot-ai-gateway/shared-gateway": "cluster-gateway" };
/** What only a stack with dot-ai creates. */
const APP_TYPES = [TYPES.secret, TYPES.release, TYPES.password];
/** What only the Gateway's owner creates. */
const PLATFORM_TYPES = [TYPES.crd, TYPES.gateway, TYPES.certificate, TYPES.referenceGrant, TYPES.admissionPolicy];

function parse(spec: StackSpec) {
  return parseConfig({
    stack: spec.stack,
    project: "dot-ai-gateway",
    values: { ...spec.config, ...spec.secrets },
    secretKeys: new Set(Object.keys(spec.secrets ?? {})),
    baseDir: REPO_ROOT,
  });
}

async function deployed(spec: StackSpec): Promise<StackRun> {
  const run = await runStack(spec);
  if (run.error) throw run.error;
  return run;
}

function namespaces(run: StackRun): string[] {
  return byType(run, TYPES.namespace)
    .map((n) => n.inputs.metadata.name as string)
    .sort();
}

describe("platform stack (role platform)", () => {
  let run: StackRun;
  before(async () => {
    run = await deployed(platformSpec());
  });

  it("deploys the CRDs, the Gateway namespace, the wildcard Certificate and the shared Gateway, and no dot-ai", () => {
    assert.strictEqual(bundleCrdNames(run).length, 3);
    for (const o of bundleRelease(run).objects) assert.strictEqual(annotation(o, "helm.sh/resource-policy"), "keep");
    assert.deepStrictEqual(namespaces(run), ["gateway-system"]);
    assert.deepStrictEqual(one(run, TYPES.certificate).inputs.spec.dnsNames, ["*.example.com", "example.com"]);
    assert.strictEqual(one(run, TYPES.gateway).inputs.metadata.name, "cluster-gateway");
    for (const type of APP_TYPES) {
      assert.deepStrictEqual(
        byType(run, type).filter((r) => r.name !== BUNDLE_RELEASE_RESOURCE),
        [],
        `no ${type}`,
      );
    }
    assert.deepStrictEqual(run.stackReads, []);
  });

  it("admits app namespaces by label (Selector) by default on HTTPS; port 80 admits only its own redirect", () => {
    const [http, https] = one(run, TYPES.gateway).inputs.spec.listeners;
    assert.deepStrictEqual([http.name, https.name], ["http", "https"]);
    assert.deepStrictEqual(https.allowedRoutes, { namespaces: { from: "Selector", selector: { matchLabels: LABEL } } });
    assert.deepStrictEqual(http.allowedRoutes, { namespaces: { from: "Same" } });
    const redirect = one(run, TYPES.httpRoute);
    assert.strictEqual(redirect.inputs.metadata.namespace, "gateway-system");
    assert.deepStrictEqual(redirect.inputs.spec.parentRefs, [
      {
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        name: "cluster-gateway",
        namespace: "gateway-system",
        sectionName: "http",
      },
    ]);
    assert.strictEqual(redirect.inputs.spec.hostnames, undefined, "every host on the Gateway");
    assert.deepStrictEqual(redirect.inputs.spec.rules, [
      { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ]);
    assert.strictEqual(run.outputs.plaintextHttp, false);
  });

  it("with allowPlaintextHttp, admits the apps on port 80 too, with no redirect, and warns on every run", async () => {
    const open = await deployed(platformSpec({ allowPlaintextHttp: "true" }));
    const [http, https] = one(open, TYPES.gateway).inputs.spec.listeners;
    assert.deepStrictEqual(http.allowedRoutes, https.allowedRoutes);
    assert.deepStrictEqual(byType(open, TYPES.httpRoute), []);
    assert.strictEqual(open.outputs.plaintextHttp, true);
    assert.ok(
      open.warnings.some((w) =>
        /allowPlaintextHttp is true\. Every app on the shared Gateway is served on plain HTTP/.test(w),
      ),
    );
  });

  it("protects the Gateway and its namespace, so `pulumi destroy` refuses before deleting anything", () => {
    assert.ok(one(run, TYPES.gateway).protect, "Gateway protected");
    const ns = byType(run, TYPES.namespace).find((n) => n.inputs.metadata.name === "gateway-system");
    assert.ok(ns?.protect, "its namespace protected: deleting it would delete the Gateway");
    assert.ok(!one(run, TYPES.certificate).protect, "the rest stays changeable");
  });

  it("has the protected Gateway wait for everything else, so `pulumi destroy` meets the protection first", async () => {
    // The engine deletes what nothing depends on first: anything outside the Gateway's
    // dependencies would be dropped from the state before the protection stops the destroy.
    // With routeNamespaces the platform has its largest set of resources (the ReferenceGrant too).
    const run = await deployed(platformSpec({ routeNamespaces: JSON.stringify(["team-a"]) }));
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const below = new Set<string>();
    const visit = (urn: string) => {
      for (const dep of byUrn.get(urn)?.dependencies ?? []) {
        if (below.has(dep)) continue;
        below.add(dep);
        visit(dep);
      }
    };
    const gateway = one(run, TYPES.gateway);
    visit(gateway.urn);
    const kubernetesObjects = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r !== gateway);
    assert.strictEqual(byType(run, TYPES.referenceGrant).length, 1);
    for (const r of kubernetesObjects) assert.ok(below.has(r.urn), `${r.type} ${r.name} comes before the Gateway`);
  });

  it("records no namespaces in a ReferenceGrant unless asked: app stacks need no platform edit", () => {
    assert.deepStrictEqual(byType(run, TYPES.referenceGrant), []);
  });

  it("exports the contract app stacks read: Gateway, admission label, certificate domain, bundle version", () => {
    const o = run.outputs;
    assert.strictEqual(o.role, "platform");
    assert.strictEqual(o.platformContract, 1);
    assert.strictEqual(o.gatewayName, "cluster-gateway");
    assert.strictEqual(o.gatewayNamespace, "gateway-system");
    assert.strictEqual(o.allowedRoutes, "Selector");
    assert.deepStrictEqual(o.routeNamespaceLabels, LABEL);
    assert.strictEqual(o.https, true);
    assert.strictEqual(o.certificateDomain, "example.com");
    assert.strictEqual(o.gatewayApiVersion, "v1.6.3");
    assert.strictEqual(o.protectGateway, true);
    assert.strictEqual(o.gatewayAddress, "pending");
    const verify = o.verify as Record<string, string>;
    assert.strictEqual(verify.appNamespaces, "kubectl get namespaces -l dot-ai-gateway/shared-gateway=cluster-gateway");
    assert.strictEqual(run.secretOutputs.size, 0, "nothing secret: app stacks read every output as a plain value");
  });

  it("exports outputs that an app stack reads back as the same Gateway", () => {
    const read = platformFactsFromOutputs(PLATFORM_STACK, run.outputs);
    assert.ok("facts" in read, JSON.stringify(read));
    assert.deepStrictEqual(read.facts, {
      gatewayName: "cluster-gateway",
      gatewayNamespace: "gateway-system",
      allowedRoutes: "Selector",
      routeNamespaceLabels: LABEL,
      https: true,
      plaintextHttp: false,
      certificateDomain: "example.com",
      gatewayApiVersion: "v1.6.3",
    });
  });

  it("records the namespaces listed in routeNamespaces in a ReferenceGrant, sorted", async () => {
    const listed = await deployed(platformSpec({ routeNamespaces: JSON.stringify(["team-b", "team-a"]) }));
    assert.deepStrictEqual(
      one(listed, TYPES.referenceGrant).inputs.spec.from.map((f: { namespace: string }) => f.namespace),
      ["team-a", "team-b"],
    );
  });

  it("with protectGateway false, leaves the Gateway unprotected and warns, naming the attached apps' check", async () => {
    const open = await deployed(platformSpec({ protectGateway: "false" }));
    assert.ok(!one(open, TYPES.gateway).protect);
    assert.ok(
      open.warnings.some((w) =>
        /protectGateway is false: `pulumi destroy` .* deletes Gateway gateway-system\/cluster-gateway .*kubectl get namespaces -l dot-ai-gateway\/shared-gateway=cluster-gateway/.test(
          w,
        ),
      ),
      open.warnings.join("\n"),
    );
  });

  it("serves HTTP only, without a certificate, when https is false and allowPlaintextHttp says so", async () => {
    const refused = await runStack(platformSpec({ https: "false", domain: "" }));
    assert.match(String(refused.error), /dot-ai-gateway:https is false/);
    const http = await deployed(platformSpec({ https: "false", domain: "", allowPlaintextHttp: "true" }));
    assert.strictEqual(http.outputs.plaintextHttp, true);
    assert.deepStrictEqual(byType(http, TYPES.certificate), []);
    assert.strictEqual(http.outputs.https, false);
    assert.strictEqual(http.outputs.certificateDomain, "");
  });
});

describe("app stack (role app) on a platform stack", () => {
  let a: StackRun;
  let b: StackRun;
  before(async () => {
    [a, b] = [await deployed(appSpec("a")), await deployed(appSpec("b"))];
  });

  it("reads the platform stack through a StackReference to its fully qualified name", () => {
    assert.deepStrictEqual(a.stackReads, [PLATFORM_STACK]);
  });

  it("creates only its own namespace (labelled for the Gateway's Selector), token, Secret and release", () => {
    assert.deepStrictEqual(namespaces(a), ["dot-ai-a"]);
    assert.deepStrictEqual(one(a, TYPES.namespace).inputs.metadata.labels, LABEL);
    for (const type of PLATFORM_TYPES) assert.deepStrictEqual(byType(a, type), [], `no ${type}`);
    assert.strictEqual(one(a, TYPES.secret).inputs.metadata.namespace, "dot-ai-a");
    const release = one(a, TYPES.release, APP_RELEASE);
    assert.strictEqual(release.inputs.name, "dot-ai-a");
    assert.strictEqual(release.inputs.namespace, "dot-ai-a");
  });

  it("attaches its HTTPRoute to the platform's Gateway, for its own hostname", () => {
    const gateway = one(a, TYPES.release, APP_RELEASE).inputs.values.gateway;
    assert.strictEqual(gateway.name, "cluster-gateway");
    assert.strictEqual(gateway.namespace, "gateway-system");
    assert.strictEqual(gateway.create, undefined);
    assert.deepStrictEqual(gateway.listeners, { http: { hostname: "a.example.com" } });
  });

  it("shares no object with a second app stack on the same platform", () => {
    const names = (run: StackRun) =>
      new Set(
        run.resources
          .filter((r) => r.type.startsWith("kubernetes:") && r.inputs.metadata)
          .map((r) => `${r.type}/${r.inputs.metadata.namespace ?? ""}/${r.inputs.metadata.name}`),
      );
    const both = [...names(a)].filter((n) => names(b).has(n));
    assert.deepStrictEqual(both, []);
    assert.strictEqual(
      one(b, TYPES.release, APP_RELEASE).inputs.values.gateway.listeners.http.hostname,
      "b.example.com",
    );
  });

  it("exports its URL on the platform's scheme, the Gateway and the platform stack", async () => {
    assert.strictEqual(a.outputs.role, "app");
    assert.strictEqual(a.outputs.platformStack, PLATFORM_STACK);
    assert.strictEqual(a.outputs.url, "https://a.example.com");
    assert.strictEqual(a.outputs.gatewayName, "cluster-gateway");
    assert.strictEqual(a.outputs.gatewayNamespace, "gateway-system");
    assert.ok(a.secretOutputs.has("authToken") && a.secretOutputs.has("mcpConfig"));
    const http = await deployed(
      appSpec("a", { allowPlaintextHttp: "true" }, platformOutputs({ https: false, certificateDomain: "" })),
    );
    assert.strictEqual(http.outputs.url, "http://a.example.com");
  });

  it("labels nothing on a platform that admits All, and adds its own namespaceLabels", async () => {
    const all = await deployed(
      appSpec(
        "a",
        { namespaceLabels: '{"team":"a"}' },
        platformOutputs({ allowedRoutes: "All", routeNamespaceLabels: {} }),
      ),
    );
    assert.deepStrictEqual(one(all, TYPES.namespace).inputs.metadata.labels, { team: "a" });
  });

  it("deploys on the outputs a real platform stack run exported", async () => {
    const platform = await deployed(platformSpec());
    const app = await deployed(appSpec("a", {}, { outputs: platform.outputs }));
    assert.deepStrictEqual(one(app, TYPES.namespace).inputs.metadata.labels, LABEL);
  });
});

interface PlatformMismatch {
  what: string;
  spec: StackSpec;
  key: string;
  says: RegExp;
}

const MISMATCHES: PlatformMismatch[] = [
  {
    what: "a hostname outside the platform certificate's domain",
    spec: appSpec("a", { hostname: "a.other.org" }),
    key: "hostname",
    says: /'a\.other\.org' is not covered by the certificate of Gateway gateway-system\/cluster-gateway/,
  },
  {
    what: "a hostname two labels below the certificate's domain",
    spec: appSpec("a", { hostname: "a.team.example.com" }),
    key: "hostname",
    says: /a wildcard matches exactly one label/,
  },
  {
    what: "the app in the Gateway's own namespace",
    spec: appSpec("a", { namespace: "gateway-system" }),
    key: "namespace",
    says: /the namespace of Gateway gateway-system\/cluster-gateway/,
  },
  {
    what: "a platform whose listeners admit only their own namespace",
    spec: appSpec("a", {}, platformOutputs({ allowedRoutes: "Same", routeNamespaceLabels: {} })),
    key: "platformStack",
    says: /allowedRoutes Same.*could never attach/,
  },
  {
    what: "a namespace label that contradicts the platform's Selector",
    spec: appSpec("a", { namespaceLabels: '{"dot-ai-gateway/shared-gateway":"other"}' }),
    key: "namespaceLabels",
    says: /admit only namespaces labelled dot-ai-gateway\/shared-gateway=cluster-gateway/,
  },
  {
    what: "a platform stack that does not exist (or was never deployed)",
    spec: appSpec("a", {}, null),
    key: "platformStack",
    says: /cannot be read: .*unknown stack/,
  },
  {
    what: "a stack that is not a platform stack (a combined prod)",
    spec: appSpec("a", {}, { outputs: { mode: "reference", gatewayName: "cluster-gateway" } }),
    key: "platformStack",
    says: /has no 'role' output: it is not a platform stack/,
  },
  {
    what: "a platform stack of another contract version",
    spec: appSpec("a", {}, platformOutputs({ platformContract: 2 })),
    key: "platformStack",
    says: /exports platform contract 2, this program reads contract 1/,
  },
  {
    what: "a platform stack whose outputs are malformed",
    spec: appSpec("a", {}, platformOutputs({ gatewayName: 42 })),
    key: "platformStack",
    says: /output 'gatewayName' is 42, not a name/,
  },
];

describe("an app stack checks itself against the platform before registering anything", () => {
  for (const bad of MISMATCHES) {
    it(`and stops for ${bad.what}`, async () => {
      const run = await runStack(bad.spec);
      assert.ok(run.error, "the program stops");
      assert.match(run.error.message, new RegExp(`^This app stack does not fit platform stack ${PLATFORM_STACK}`));
      assert.match(run.error.message, /nothing was deployed/);
      assert.match(run.error.message, new RegExp(`dot-ai-gateway:${bad.key} `));
      assert.match(run.error.message, bad.says);
      assert.match(run.error.message, /Fix: (on the platform: pulumi|pulumi|check|deploy|run)/);
      assert.deepStrictEqual(run.resources, [], "nothing is registered (the StackReference is a read)");
      assert.deepStrictEqual(run.stackReads, [PLATFORM_STACK]);
    });
  }

  it("lists every mismatch at once", async () => {
    const run = await runStack(appSpec("a", { hostname: "a.other.org", namespace: "gateway-system" }));
    assert.match(run.error?.message ?? "", /\(2 problems\)/);
  });

  it("asks for allowPlaintextHttp on a platform from before port 80 redirected (no plaintextHttp output)", async () => {
    const old = platformOutputs();
    delete old.outputs.plaintextHttp;
    const refused = await runStack(appSpec("a", {}, old));
    assert.match(
      String(refused.error),
      /allowPlaintextHttp is not set, but Gateway gateway-system\/cluster-gateway admits app routes on its plain-HTTP listener/,
    );
    assert.deepStrictEqual(refused.resources.filter((r) => r.type !== "pulumi:pulumi:StackReference").length, 0);
    await deployed(appSpec("a", { allowPlaintextHttp: "true" }, old));
  });

  it("reads a secret platform output like a plain one", async () => {
    const spec = appSpec("a", {}, { ...platformOutputs(), secretOutputNames: ["certificateDomain"] });
    await deployed(spec);
  });
});

describe("an app stack on a Gateway no Pulumi stack owns (explicit settings)", () => {
  const explicit = (config: Record<string, string> = {}) => {
    const spec = appSpec("a", { platformStack: "", gatewayName: "edge", gatewayNamespace: "infra", ...config });
    delete spec.config!.platformStack;
    return spec;
  };

  it("attaches to the named Gateway without reading any stack, with the labels it is told to set", async () => {
    const run = await deployed(
      explicit({ namespaceLabels: '{"shared-gateway-access":"true"}', domain: "example.com" }),
    );
    assert.deepStrictEqual(run.stackReads, []);
    const gateway = one(run, TYPES.release, APP_RELEASE).inputs.values.gateway;
    assert.deepStrictEqual([gateway.name, gateway.namespace], ["edge", "infra"]);
    assert.deepStrictEqual(one(run, TYPES.namespace).inputs.metadata.labels, { "shared-gateway-access": "true" });
    assert.strictEqual(run.outputs.url, "https://a.example.com");
    assert.strictEqual(run.outputs.platformStack, "");
  });

  it("warns that the hostname cannot be checked when the certificate's domain is not given", () => {
    const result = parse(explicit());
    assert.ok(result.ok);
    assert.ok(result.warnings.some((w) => /domain is not set: the hostname cannot be checked/.test(w)));
  });

  it("checks the hostname against the given domain with the rest of the configuration", () => {
    const result = parse(explicit({ domain: "example.org", hostname: "Bad_Host" }));
    assert.ok(!result.ok);
    assert.deepStrictEqual(result.problems.map((p) => p.key).sort(), ["hostname"], "one problem: the syntax");
    const wrong = parse(explicit({ domain: "example.org" }));
    assert.ok(!wrong.ok && wrong.problems.some((p) => p.key === "hostname" && /not covered/.test(p.problem)));
  });
});

interface BadCase {
  what: string;
  spec: StackSpec;
  key: string;
  says: RegExp;
}

const withoutPlatformStack = (spec: StackSpec): StackSpec => {
  delete spec.config!.platformStack;
  return spec;
};

const BAD: BadCase[] = [
  { what: "an unknown role", spec: prodSpec({ role: "shared" }), key: "role", says: /'shared' is not a role/ },
  {
    what: "a dot-ai setting on a platform stack",
    spec: platformSpec({ hostname: "dot-ai.example.com" }),
    key: "hostname",
    says: /a setting of dot-ai, which a platform stack does not deploy/,
  },
  {
    what: "an API key on a platform stack",
    spec: { ...platformSpec(), secrets: { anthropicApiKey: KEYS.anthropicApiKey } },
    key: "anthropicApiKey",
    says: /platform stack does not deploy/,
  },
  {
    what: "the creation pattern on a platform stack",
    spec: platformSpec({ mode: "creation" }),
    key: "mode",
    says: /the creation pattern needs role combined/,
  },
  {
    what: "a platform stack with HTTPS and no certificate domain",
    spec: platformSpec({ domain: "" }),
    key: "domain",
    says: /needed for HTTPS on a platform stack/,
  },
  {
    what: "a platform whose listeners would admit only their own namespace",
    spec: platformSpec({ allowedRoutes: "Same" }),
    key: "allowedRoutes",
    says: /no app stack's HTTPRoute .* could ever attach/,
  },
  {
    what: "routeNamespaces that is not a list",
    spec: platformSpec({ routeNamespaces: "team-a" }),
    key: "routeNamespaces",
    says: /must be a list of namespace names/,
  },
  {
    what: "routeNamespaces naming the Gateway's own namespace",
    spec: platformSpec({ routeNamespaces: '["gateway-system"]' }),
    key: "routeNamespaces",
    says: /is the Gateway's own namespace/,
  },
  {
    what: "a Gateway owner's setting on an app stack",
    spec: appSpec("a", { gatewayClassName: "nginx" }),
    key: "gatewayClassName",
    says: /an app stack \(role app\) creates no Gateway and installs no CRDs/,
  },
  {
    what: "CRD settings on an app stack",
    spec: appSpec("a", { gatewayApiCrdsFile: FIXTURE_CRDS }),
    key: "gatewayApiCrdsFile",
    says: /installs no CRDs/,
  },
  {
    what: "platformStack and an explicit Gateway at once",
    spec: appSpec("a", { gatewayName: "edge" }),
    key: "gatewayName",
    says: /comes from the platform stack's outputs once platformStack is set/,
  },
  {
    what: "platformStack and https at once",
    spec: appSpec("a", { https: "false" }),
    key: "https",
    says: /comes from the platform stack's outputs/,
  },
  {
    what: "an app stack told of no Gateway at all",
    spec: withoutPlatformStack(appSpec("a")),
    key: "platformStack",
    says: /neither are gatewayName and gatewayNamespace/,
  },
  {
    what: "an explicit Gateway without its namespace",
    spec: withoutPlatformStack(appSpec("a", { gatewayName: "edge" })),
    key: "gatewayNamespace",
    says: /named by both gatewayName and gatewayNamespace/,
  },
  {
    what: "a platformStack that is not fully qualified",
    spec: appSpec("a", { platformStack: "platform" }),
    key: "platformStack",
    says: /not a fully qualified stack name <organization>\/<project>\/<stack>/,
  },
  {
    what: "a platformStack naming the app stack itself",
    spec: appSpec("a", { platformStack: "organization/dot-ai-gateway/app-a" }),
    key: "platformStack",
    says: /names this stack itself/,
  },
  {
    what: "namespaceLabels that are not labels",
    spec: appSpec("a", { namespaceLabels: '{"bad key!":"x"}' }),
    key: "namespaceLabels",
    says: /not a Kubernetes label key/,
  },
  {
    what: "an app-stack setting on a combined stack",
    spec: prodSpec({ platformStack: PLATFORM_STACK }),
    key: "platformStack",
    says: /applies to app stacks \(role app\) only/,
  },
  {
    what: "a platform-stack setting on a combined stack",
    spec: prodSpec({ protectGateway: "true" }),
    key: "protectGateway",
    says: /applies to platform stacks \(role platform\) only/,
  },
];

describe("role settings are refused, naming the key and the fix, with nothing registered, for", () => {
  for (const bad of BAD) {
    it(bad.what, async () => {
      const result = parse(bad.spec);
      assert.strictEqual(result.ok, false, "must be refused");
      const problem = !result.ok && result.problems.find((p) => p.key === bad.key);
      assert.ok(problem, `a problem naming ${bad.key}; got: ${!result.ok && formatProblems(result.problems)}`);
      assert.match(problem.problem, bad.says);
      assert.match(problem.fix, /pulumi config (set|rm)/);

      const run = await runStack(bad.spec);
      assert.ok(run.error, "the program stops");
      assert.match(run.error.message, new RegExp(`dot-ai-gateway:${bad.key} `));
      assert.deepStrictEqual(run.resources, [], "nothing is registered");
      assert.deepStrictEqual(run.stackReads, [], "no stack is read");
    });
  }

  it("every contradiction at once", () => {
    const result = parse(platformSpec({ hostname: "x.example.com", chart: "oci://x", allowedRoutes: "Same" }));
    assert.ok(!result.ok);
    assert.deepStrictEqual(result.problems.map((p) => p.key).sort(), ["allowedRoutes", "chart", "hostname"]);
  });
});

describe("checkAppAgainstPlatform", () => {
  const facts = {
    gatewayName: "gw",
    gatewayNamespace: "infra",
    allowedRoutes: "Selector" as const,
    routeNamespaceLabels: { k: "v" },
    https: true,
    plaintextHttp: false,
    certificateDomain: "example.com",
  };
  const app = { hostname: "a.example.com", namespace: "a", namespaceLabels: {}, plaintextHttp: false };

  it("accepts an app under the domain, in its own namespace", () => {
    assert.deepStrictEqual(checkAppAgainstPlatform(app, facts, PLATFORM_STACK), []);
    assert.deepStrictEqual(checkAppAgainstPlatform({ ...app, hostname: "example.com" }, facts), []);
  });

  it("does not check the hostname when the Gateway serves no HTTPS (which the app must consent to)", () => {
    assert.deepStrictEqual(
      checkAppAgainstPlatform({ ...app, hostname: "a.other.org", plaintextHttp: true }, { ...facts, https: false }),
      [],
    );
  });

  it("refuses a Gateway that serves the app in clear unless the app stack says allowPlaintextHttp", () => {
    for (const gateway of [
      { ...facts, https: false },
      { ...facts, plaintextHttp: true },
    ]) {
      const problems = checkAppAgainstPlatform(app, gateway, PLATFORM_STACK);
      assert.deepStrictEqual(
        problems.map((p) => p.key),
        ["allowPlaintextHttp"],
      );
      assert.match(problems[0].problem, /in clear/);
      assert.match(problems[0].fix, new RegExp(`--stack ${PLATFORM_STACK}.*allowPlaintextHttp true`));
      assert.deepStrictEqual(checkAppAgainstPlatform({ ...app, plaintextHttp: true }, gateway), []);
    }
  });

  it("names the platform stack in the fix for the platform's own settings", () => {
    const [p] = checkAppAgainstPlatform(app, { ...facts, allowedRoutes: "Same" }, PLATFORM_STACK);
    assert.match(p.fix, new RegExp(`--stack ${PLATFORM_STACK}`));
  });
});

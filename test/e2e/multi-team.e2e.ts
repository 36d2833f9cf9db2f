/**
 * The reference pattern across stacks, for real: one platform stack (role platform) owns the shared
 * Gateway, three app stacks (role app) find it through a StackReference to the platform stack and
 * attach dot-ai (chart 2.2.2) to it, each with its own namespace, release and hostname. Envoy
 * Gateway judges the routes; cert-manager issues the platform's certificate. Then teardown: the
 * platform refuses `pulumi destroy` while protected, one app stack goes without disturbing the
 * others, and the rest is removed apps first, platform last.
 */
import * as assert from "assert";
import * as path from "path";

import { KEYS } from "./dot-ai";
import {
  EG_CONTROLLER,
  GATEWAY_CLASS,
  KubeObject,
  chartPackage,
  createStack,
  describeConditions,
  eventually,
  exists,
  isTrue,
  kubectlJson,
  pulumi,
  pulumiAsync,
  run,
  setConfig,
  timeSuite,
} from "./tools";

const PLATFORM = "platform";
/** How an app stack names the platform stack: a local backend's organization is `organization`. */
const PLATFORM_REF = `organization/dot-ai-gateway/${PLATFORM}`;
const GATEWAY = { name: "cluster-gateway", namespace: "gateway-system" };
const ISSUER = "letsencrypt-prod";
const CHART = "2.2.2";

interface Team {
  stack: string;
  namespace: string;
  release: string;
  hostname: string;
}
const TEAMS: Team[] = ["a", "b", "c"].map((t) => ({
  stack: `team-${t}`,
  namespace: `team-${t}`,
  release: `dot-ai-${t}`,
  hostname: `team-${t}.example.com`,
}));
const [A, B, C] = TEAMS;

const up = (stack: string) => pulumiAsync(stack, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
const destroy = (stack: string, allowFailure = false) =>
  pulumiAsync(stack, ["destroy", "--yes", "--skip-preview", "--suppress-progress"], { allowFailure });
const noChanges = (stack: string) =>
  pulumiAsync(stack, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"]);

function gateway(): KubeObject {
  return kubectlJson(["get", "gateway", GATEWAY.name, "-n", GATEWAY.namespace]);
}

function attachedRoutes(gw: KubeObject): number[] {
  return (gw.status?.listeners ?? []).map((l: KubeObject) => l.attachedRoutes);
}

function route(team: Team): KubeObject {
  return kubectlJson(["get", "httproute", team.release, "-n", team.namespace]);
}

/** The route's status entry Envoy Gateway wrote for the shared Gateway. */
function sharedParent(r: KubeObject): KubeObject | undefined {
  return (r.status?.parents ?? []).find(
    (p: KubeObject) =>
      p.controllerName === EG_CONTROLLER &&
      p.parentRef.name === GATEWAY.name &&
      p.parentRef.namespace === GATEWAY.namespace,
  );
}

function accepted(team: Team): boolean {
  const r = route(team);
  const parent = sharedParent(r);
  return !!parent && isTrue(r, "Accepted", parent) && isTrue(r, "ResolvedRefs", parent);
}

/** Until every listener of the shared Gateway counts `n` routes and each team's route is Accepted. */
async function attached(teams: Team[]): Promise<void> {
  let gw: KubeObject = {};
  await eventually(
    `${teams.length} routes attached to ${GATEWAY.namespace}/${GATEWAY.name}, each Accepted`,
    () => {
      gw = gateway();
      const counts = attachedRoutes(gw);
      // Port 80 counts the platform's redirect alone; 443 every team's route.
      return counts.length === 2 && counts[0] === 1 && counts[1] === teams.length && teams.every(accepted);
    },
    90_000,
    () =>
      `listeners ${JSON.stringify(attachedRoutes(gw))}; ${teams.map((t) => `${t.stack}: ${JSON.stringify(route(t).status?.parents)}`).join("; ")}`,
  );
}

describe(`multi-team: one platform stack, three app stacks, chart ${CHART}, real controllers`, () => {
  timeSuite("multi-team: platform + 3 app stacks");
  const timings: string[] = [];
  const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    const result = await work();
    timings.push(`${what} ${((Date.now() - start) / 1000).toFixed(0)} s`);
    return result;
  };

  before(async () => {
    // The ClusterIssuer the platform's Certificate names: a local CA in place of Let's Encrypt.
    run(path.join(__dirname, "..", "..", "toolchain", "cluster.sh"), ["issuer", ISSUER]);
    createStack(PLATFORM, {
      role: "platform",
      domain: "example.com",
      gatewayClassName: GATEWAY_CLASS,
      gatewayApiCrdsFile: process.env.GATEWAY_API_CRDS_FILE ?? "",
      clusterIssuer: ISSUER,
      // Recorded in a ReferenceGrant, which the protection must keep like the rest.
      routeNamespaces: JSON.stringify(TEAMS.map((t) => t.namespace)),
    });
    for (const team of TEAMS) {
      createStack(
        team.stack,
        {
          role: "app",
          platformStack: PLATFORM_REF,
          hostname: team.hostname,
          namespace: team.namespace,
          releaseName: team.release,
          chart: chartPackage(CHART),
        },
        { anthropicApiKey: KEYS[0], openaiApiKey: KEYS[1] },
      );
    }
    await timed("platform up", () => up(PLATFORM));
    // Each app stack reads the platform stack's state and writes only its own: they can go at once.
    await timed("3 app stacks up in parallel", () => Promise.all(TEAMS.map((t) => up(t.stack))));
  });

  after(async () => {
    console.log(`      [e2e time] multi-team steps: ${timings.join(", ")}`);
    // Whatever a failure left behind: apps first, then the platform without its protection.
    const left = TEAMS.filter((t) => exists(["namespace", t.namespace]));
    await Promise.all(left.map((t) => destroy(t.stack, true)));
    if (exists(["namespace", GATEWAY.namespace])) {
      await pulumiAsync(PLATFORM, ["state", "unprotect", "--all", "--yes"], { allowFailure: true });
      await destroy(PLATFORM, true);
    }
  });

  it("has the platform own the Gateway, Programmed, with its Certificate Ready, and no dot-ai", () => {
    const gw = gateway();
    assert.ok(isTrue(gw, "Programmed"), describeConditions(gw));
    assert.deepStrictEqual(
      gw.spec.listeners.map((l: KubeObject) => [l.name, l.allowedRoutes.namespaces.from]),
      [
        ["http", "Same"],
        ["https", "Selector"],
      ],
      "port 80 admits only the platform's redirect",
    );
    const cert = kubectlJson(["get", "certificate", "wildcard", "-n", GATEWAY.namespace]);
    assert.ok(isTrue(cert, "Ready"), describeConditions(cert));
    const releases = kubectlJson(["get", "secret", "-n", GATEWAY.namespace, "-l", "owner=helm"]).items;
    assert.deepStrictEqual(releases, [], "no Helm release in the platform namespace");
  });

  it("attaches the three routes to the one shared Gateway's https listener (attachedRoutes 3; http: the redirect), every route Accepted", async () => {
    await attached(TEAMS);
  });

  it("gives each app its own namespace (carrying the Selector label), release and hostname", () => {
    const selector = gateway().spec.listeners[1].allowedRoutes.namespaces.selector.matchLabels as Record<
      string,
      string
    >;
    for (const team of TEAMS) {
      const labels = kubectlJson(["get", "namespace", team.namespace]).metadata.labels;
      for (const [k, v] of Object.entries(selector)) assert.strictEqual(labels[k], v, `${team.namespace} ${k}`);
      const r = route(team);
      assert.deepStrictEqual(r.spec.hostnames, [team.hostname]);
      assert.deepStrictEqual(
        r.spec.parentRefs.map((p: KubeObject) => [p.name, p.namespace]),
        [[GATEWAY.name, GATEWAY.namespace]],
      );
      const releases = kubectlJson(["get", "secret", "-n", team.namespace, "-l", `owner=helm,name=${team.release}`]);
      assert.ok(
        releases.items.some((s: KubeObject) => s.metadata.labels.status === "deployed"),
        team.release,
      );
    }
    const outputs = JSON.parse(pulumi(A.stack, ["stack", "output", "--json"]).stdout) as KubeObject;
    assert.deepStrictEqual(
      [outputs.role, outputs.platformStack, outputs.url],
      ["app", PLATFORM_REF, `https://${A.hostname}`],
    );
  });

  it("holds a no-change preview on all four stacks", async () => {
    await timed("4 no-change previews", () => Promise.all([PLATFORM, ...TEAMS.map((t) => t.stack)].map(noChanges)));
  });

  it("refuses, in preview, an app whose hostname the platform's certificate does not cover", async () => {
    setConfig(B.stack, { hostname: "team-b.other.org" });
    try {
      const res = await pulumiAsync(B.stack, ["preview", "--suppress-progress"], { allowFailure: true });
      assert.notStrictEqual(res.status, 0);
      assert.match(
        res.stdout + res.stderr,
        /This app stack does not fit platform stack organization\/dot-ai-gateway\/platform \(1 problem\); nothing was deployed/,
      );
      assert.match(res.stdout + res.stderr, /dot-ai-gateway:hostname 'team-b\.other\.org' is not covered/);
    } finally {
      setConfig(B.stack, { hostname: B.hostname });
    }
  });

  it("refuses, in preview, an app whose release name another team's release already uses (the chart's ClusterRole)", async () => {
    setConfig(B.stack, { releaseName: A.release });
    try {
      const res = await pulumiAsync(B.stack, ["preview", "--suppress-progress"], { allowFailure: true });
      assert.notStrictEqual(res.status, 0);
      const out = res.stdout + res.stderr;
      assert.ok(
        out.includes(`ClusterRole ${A.release} belongs to Helm release ${A.release} in namespace ${A.namespace}`),
        out,
      );
      assert.match(out, /pulumi config set dot-ai-gateway:releaseName dot-ai-team-b/);
    } finally {
      setConfig(B.stack, { releaseName: B.release });
    }
  });

  it("refuses to destroy the protected platform while apps are attached, in its preview, before deleting anything", async () => {
    // As a user runs it: `pulumi destroy` previews first, and the preview meets the protection.
    const res = await pulumiAsync(PLATFORM, ["destroy", "--yes", "--suppress-progress"], { allowFailure: true });
    assert.notStrictEqual(res.status, 0, "pulumi destroy must fail");
    assert.match(
      res.stdout + res.stderr,
      /Preview failed: resource "urn:[^"]*::(platform-gateway|platform-namespace)" cannot be deleted\s+because it is protected/,
    );
    // Without the preview the engine meets the protection when it reaches the Gateway, which is
    // the first thing it would delete: everything else of the platform is what the Gateway needs.
    const skipped = await destroy(PLATFORM, true);
    assert.notStrictEqual(skipped.status, 0, "pulumi destroy --skip-preview must fail too");
    assert.match(skipped.stdout + skipped.stderr, /cannot be deleted\s+because it is protected/);
    assert.ok(exists(["gateway", GATEWAY.name, "-n", GATEWAY.namespace]));
    assert.ok(exists(["certificate", "wildcard", "-n", GATEWAY.namespace]), "nothing of the platform was deleted");
    assert.ok(exists(["referencegrant", `${GATEWAY.name}-routes`, "-n", GATEWAY.namespace]), "not even the grant");
    assert.ok(
      exists(["httproute", `${GATEWAY.name}-https-redirect`, "-n", GATEWAY.namespace]),
      "not even the redirect route",
    );
    // The platform's state is untouched too: its no-change preview in the next test says so.
    await attached(TEAMS);
  });

  it("destroys one app stack and leaves the other two attached and unchanged", async () => {
    await timed("1 app stack destroy", () => destroy(B.stack));
    await eventually(`namespace ${B.namespace} deleted`, () => !exists(["namespace", B.namespace]), 120_000);
    await attached([A, C]);
    await Promise.all([PLATFORM, A.stack, C.stack].map(noChanges));
  });

  it("tears down the rest: apps, then the platform once its protection is lifted (with a warning)", async () => {
    setConfig(PLATFORM, { protectGateway: "false" });
    // Lifting the protection changes no object: it can go while the apps are destroyed.
    const [unprotect] = await timed("2 app destroys + platform unprotect", () =>
      Promise.all([up(PLATFORM), ...[A, C].map((t) => destroy(t.stack))]),
    );
    assert.match(
      unprotect.stdout + unprotect.stderr,
      /protectGateway is false: `pulumi destroy` on this stack deletes/,
    );
    await timed("platform destroy", () => destroy(PLATFORM));
    for (const ns of [GATEWAY.namespace, A.namespace, C.namespace]) {
      await eventually(`namespace ${ns} deleted`, () => !exists(["namespace", ns]), 120_000);
    }
  });
});

/**
 * Moving a dot-ai installed by the upstream quick start (plain `helm install`, Ingress on, token via
 * `--set`) to Gateway API, with no gap in service (docs/migration.md): a stack with `migrateFrom`
 * adopts the release and goes through the phases, `both` (Ingress and a bridge HTTPRoute), then
 * `gateway` (the chart's HTTPRoute only), then back to `both` (the rollback). While every `up` runs,
 * the host is polled: there is always the Ingress or an Accepted HTTPRoute for it. The token served
 * and Qdrant's volume are the ones the quick start made, at every step. Then a 1.25.0 release.
 */
import * as assert from "assert";
import * as crypto from "crypto";

import {
  GATEWAY,
  HOST,
  NS,
  RELEASE,
  adoptingStack,
  digest,
  pvcUid,
  quickStartInstall,
  removeAll,
  servedToken,
} from "./migration-steps";
import {
  EG_CONTROLLER,
  KubeObject,
  Running,
  exists,
  helmRevisions,
  kubectl,
  pulumi,
  sleep,
  startPulumi,
  timeSuite,
} from "./tools";

/** What serves the host now: the Ingress, and the HTTPRoutes the shared Gateway has Accepted. */
function paths(): { ingress: boolean; accepted: string[] } {
  // On a cluster without the Gateway API yet (the first up installs it), only the Ingress can serve.
  const both = kubectl(["get", "ingress,httproute", "-n", NS, "-o", "json"], { allowFailure: true });
  const list = JSON.parse(
    both.status === 0 ? both.stdout : kubectl(["get", "ingress", "-n", NS, "-o", "json"]).stdout,
  ) as { items: KubeObject[] };
  const ingress = list.items.some(
    (o) => o.kind === "Ingress" && (o.spec.rules ?? []).some((r: KubeObject) => r.host === HOST),
  );
  const accepted = list.items
    .filter((o) => o.kind === "HTTPRoute" && (o.spec.hostnames ?? []).includes(HOST))
    .filter((o) =>
      (o.status?.parents ?? []).some(
        (p: KubeObject) =>
          p.controllerName === EG_CONTROLLER &&
          p.parentRef.name === GATEWAY.name &&
          (p.conditions ?? []).some((c: KubeObject) => c.type === "Accepted" && c.status === "True"),
      ),
    )
    .map((o) => o.metadata.name as string)
    .sort();
  return { ingress, accepted };
}

/** `pulumi up` while the host is sampled; returns the samples where neither path served it. */
async function upWatched(stack: string): Promise<{ gaps: string[]; samples: number }> {
  const running: Running = startPulumi(stack, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
  const gaps: string[] = [];
  let samples = 0;
  while (!running.exited) {
    const now = paths();
    samples++;
    if (!now.ingress && now.accepted.length === 0) gaps.push(new Date().toISOString());
    await sleep(100);
  }
  const res = await running.done;
  assert.strictEqual(res.status, 0, (res.stdout + res.stderr).slice(-4000));
  console.log(`      [migration] ${samples} samples during up, ${gaps.length} without a path`);
  return { gaps, samples };
}

function noChanges(stack: string): void {
  const res = pulumi(stack, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"], {
    allowFailure: true,
  });
  assert.strictEqual(res.status, 0, (res.stdout + res.stderr).slice(-4000));
}

describe("migration from Ingress, chart 2.2.2 installed by the quick start", () => {
  timeSuite("migration 2.2.2");
  const STACK = "migrate";
  const token = crypto.randomBytes(24).toString("hex");
  let uid = "";

  before(async () => {
    await removeAll(STACK);
    quickStartInstall("2.2.2", token);
    uid = pvcUid();
    assert.strictEqual(servedToken(), token);
    adoptingStack(STACK, "2.2.2");
  });
  after(() => removeAll(STACK));

  it("preview before adopting: the release is imported and its change is shown, nothing is written", () => {
    const revisions = helmRevisions(NS, RELEASE);
    const res = pulumi(STACK, ["preview", "--diff", "--suppress-progress"]);
    assert.match(res.stdout, /import/i, res.stdout.slice(-3000));
    assert.match(res.stdout, /dot-ai-release/);
    assert.match(res.stdout, /dot-ai-bridge-route/);
    assert.deepStrictEqual(helmRevisions(NS, RELEASE), revisions, "preview changed no revision");
    assert.deepStrictEqual(paths(), { ingress: true, accepted: [] });
  });

  it("phase both: the release is adopted with its token and data, its Ingress stays, the bridge route is Accepted; never a gap", async () => {
    const { gaps } = await upWatched(STACK);
    assert.deepStrictEqual(gaps, [], "a moment with neither the Ingress nor an Accepted route");
    assert.deepStrictEqual(paths(), { ingress: true, accepted: [`${RELEASE}-bridge`] });
    assert.strictEqual(digest(servedToken()), digest(token), "the token the quick start set is served");
    assert.strictEqual(pvcUid(), uid, "Qdrant's volume is the same claim");
    const revisions = helmRevisions(NS, RELEASE);
    assert.strictEqual(revisions.filter((r) => r.status === "deployed").length, 1, JSON.stringify(revisions));
    noChanges(STACK);
  });

  it("phase gateway: the chart's route replaces the bridge and the Ingress; never a gap; then no changes", async () => {
    pulumi(STACK, ["config", "set", "dot-ai-gateway:migrationPhase", "gateway"]);
    const { gaps } = await upWatched(STACK);
    assert.deepStrictEqual(gaps, [], "a moment with neither the Ingress nor an Accepted route");
    assert.deepStrictEqual(paths(), { ingress: false, accepted: [RELEASE] });
    assert.ok(!exists(["httproute", `${RELEASE}-bridge`, "-n", NS]), "the bridge route is gone");
    assert.strictEqual(digest(servedToken()), digest(token));
    assert.strictEqual(pvcUid(), uid);
    noChanges(STACK);
  });

  it("rollback to phase both: the Ingress is back, then the chart's route goes; never a gap", async () => {
    pulumi(STACK, ["config", "set", "dot-ai-gateway:migrationPhase", "both"]);
    const { gaps } = await upWatched(STACK);
    assert.deepStrictEqual(gaps, [], "a moment with neither the Ingress nor an Accepted route");
    assert.deepStrictEqual(paths(), { ingress: true, accepted: [`${RELEASE}-bridge`] });
    assert.strictEqual(digest(servedToken()), digest(token));
    assert.strictEqual(pvcUid(), uid);
    noChanges(STACK);
  });
});

describe("migration from Ingress, chart 1.25.0 installed by the quick start", () => {
  timeSuite("migration 1.25.0");
  const STACK = "migrate-125";
  const token = crypto.randomBytes(24).toString("hex");

  before(async () => {
    await removeAll(STACK);
    quickStartInstall("1.25.0", token);
    adoptingStack(STACK, "1.25.0");
  });
  after(() => removeAll(STACK));

  it("adopted in phase both: same token and volume, Ingress and bridge route, then no changes", async () => {
    const uid = pvcUid();
    const { gaps } = await upWatched(STACK);
    assert.deepStrictEqual(gaps, []);
    assert.deepStrictEqual(paths(), { ingress: true, accepted: [`${RELEASE}-bridge`] });
    assert.strictEqual(digest(servedToken()), digest(token));
    assert.strictEqual(pvcUid(), uid);
    noChanges(STACK);
  });
});

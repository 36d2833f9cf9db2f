/**
 * Upgrades of a running stack. The program's own: a stack deployed by the code as it was before
 * the components named their children after themselves (and before port 80 only redirected) moves
 * to today's code with updates only, no replacement, and dot-ai stays attached on 443 throughout. The chart's: moving from the floor chart to the newest one is a config change
 * and one `pulumi up`: the token stays, the pods roll onto the new chart, and everything is Ready.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { CHART_VERSIONS, deployment, deploymentReady, deploymentsOf, qdrantReady, secretData } from "./dot-ai";
import {
  BUNDLE_RELEASE,
  EG_CONTROLLER,
  KubeObject,
  PROJECT,
  chartPackage,
  eventually,
  exists,
  kubectlJson,
  pulumi,
  pulumiUp,
  run,
  setConfig,
  startPulumi,
  timeSuite,
  whileRunning,
  crdUids,
  forgetBundleRelease,
} from "./tools";

const [FROM, TO] = [CHART_VERSIONS[0], CHART_VERSIONS[CHART_VERSIONS.length - 1]];
const STACK = "prod";
/** The last commit whose components gave their children fixed names (`shared-gateway`, `auth-token`, …). */
const BEFORE_RENAMES = "d272797ddb4f8f062c1a9a6dba01988bb4d92718";
/** The last commit whose program installed the Gateway API CRDs as Pulumi resources, one each. */
const BEFORE_BUNDLE_RELEASE = "5034212e7e4eb5321d1289641078ed77af264ef9";
const REPO = path.resolve(__dirname, "..", "..");
const GROUP = "gateway.networking.k8s.io";

/**
 * The operations of moving the bundle's CRDs from Pulumi resources into the bundle's release: each
 * CRD leaves the state (retained, so the cluster keeps it), the release is created, and each CRD
 * gets the patch that gives Helm its ownership.
 */
function isBundleMove([name, op]: [string, string]): boolean {
  if (name === BUNDLE_RELEASE.resource || name.startsWith("gateway-api-crds-adopt-")) return op === "create";
  return name.endsWith(`.${GROUP}`) && !name.startsWith("safe-upgrades.") && op === "delete";
}

/** Helm's revision records of the bundle's release. */
function bundleRevisions(): KubeObject[] {
  return kubectlJson<{ items: KubeObject[] }>([
    "get",
    "secret",
    "-n",
    BUNDLE_RELEASE.namespace,
    "-l",
    `owner=helm,name=${BUNDLE_RELEASE.name}`,
  ]).items;
}

/** Asserts the CRDs are the release's now: Helm's ownership on each, the release deployed. */
function assertCrdsInRelease(uids: Record<string, string>): void {
  assert.deepStrictEqual(crdUids(), uids, "no CRD deleted or recreated");
  for (const name of Object.keys(uids)) {
    const metadata = kubectlJson(["get", "crd", name]).metadata;
    assert.strictEqual(metadata.labels?.["app.kubernetes.io/managed-by"], "Helm", name);
    assert.strictEqual(metadata.annotations?.["meta.helm.sh/release-name"], BUNDLE_RELEASE.name, name);
  }
  const revisions = bundleRevisions();
  // The newest revision deployed, any earlier one (a release another stack left, imported and
  // upgraded) superseded.
  const statuses = revisions
    .sort((a, b) => Number(a.metadata.labels.version) - Number(b.metadata.labels.version))
    .map((r) => r.metadata.labels.status);
  assert.deepStrictEqual(statuses, [...statuses.slice(0, -1).map(() => "superseded"), "deployed"]);
}

/**
 * The Pulumi project as it was at `commit`, beside today's (same stack config and state backend),
 * taken from the repository's history.
 */
function projectAt(commit: string, stack = STACK): string {
  const have = run("git", ["-C", REPO, "cat-file", "-e", `${commit}^{commit}`], { allowFailure: true });
  if (have.status !== 0) {
    throw new Error(`commit ${commit} is not in this clone; the test needs the history: git fetch --unshallow`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dot-ai-gateway-before-"));
  const files = ["index.ts", "components", "stacks", "Pulumi.yaml", "package.json", "tsconfig.json"];
  const archive = path.join(dir, "project.tar");
  run("git", ["-C", REPO, "archive", "--output", archive, commit, ...files]);
  run("tar", ["-xf", archive, "-C", dir]);
  fs.rmSync(archive);
  fs.copyFileSync(path.join(PROJECT, `Pulumi.${stack}.yaml`), path.join(dir, `Pulumi.${stack}.yaml`));
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** `pulumi up` of `stack` with the program of `project` (an earlier commit's, see `projectAt`). */
function upWith(project: string, stack: string): void {
  run("pulumi", [
    "-C",
    project,
    "--non-interactive",
    "up",
    "--yes",
    "--skip-preview",
    "--suppress-progress",
    "--stack",
    stack,
  ]);
}

/** The operations `pulumi preview` plans, by resource name, from its JSON output. */
function plannedOperations(previewJson: string): Map<string, string> {
  const steps = (JSON.parse(previewJson) as { steps?: { op: string; urn: string }[] }).steps ?? [];
  return new Map(steps.map((s) => [s.urn.slice(s.urn.lastIndexOf("::") + 2), s.op]));
}

function podTemplate(): { image: string; chartLabel: string; versionLabel: string } {
  const d = deployment();
  const labels: KubeObject = d.spec.template.metadata.labels ?? {};
  return {
    image: d.spec.template.spec.containers[0].image,
    chartLabel: d.metadata.labels["helm.sh/chart"],
    versionLabel: labels["app.kubernetes.io/version"] ?? d.metadata.labels["app.kubernetes.io/version"],
  };
}

describe(`upgrade of a running ${STACK} stack from chart ${FROM} to ${TO}`, () => {
  timeSuite(`upgrade ${STACK} ${FROM} -> ${TO}`);
  let token = "";
  let before_: ReturnType<typeof podTemplate>;

  let earlierProject = "";
  let uids: Record<string, string> = {};

  before(async () => {
    setConfig(STACK, { chart: chartPackage(FROM) });
    // That code installed the CRDs itself only where nobody else held them, and the suites before
    // this one leave them held by the bundle's release they retained (which the code of then did
    // not know): it would leave them, and there would be no move to test.
    forgetBundleRelease();
    earlierProject = projectAt(BEFORE_RENAMES);
    upWith(earlierProject, STACK);
    await eventually(`dot-ai on chart ${FROM} Ready`, () => deploymentReady("dot-ai") && qdrantReady());
    token = secretData()["auth-token"];
    uids = crdUids();
    before_ = podTemplate();
    assert.strictEqual(before_.chartLabel, `dot-ai-${FROM}`);
  });

  after(() => {
    if (earlierProject) fs.rmSync(earlierProject, { recursive: true, force: true });
  });

  it("moves from the code before the children were renamed with updates only: nothing replaced or deleted", () => {
    const preview = pulumi(STACK, ["preview", "--json", "--suppress-progress"]);
    const ops = plannedOperations(preview.stdout);
    // Besides the move of the CRDs into the bundle's release (its own case below).
    const changed = [...ops].filter(([, op]) => op !== "same" && op !== "update").filter((o) => !isBundleMove(o));
    // The one new object: port 80's redirect to HTTPS, which that code did not have.
    assert.deepStrictEqual(
      changed,
      [["platform-https-redirect", "create"]],
      "every child is found under its earlier name (aliases)",
    );
    // The preview lists what changes: the Gateway (renamed) gains the patchForce annotation and
    // its port-80 listener stops admitting apps; the Secret gains the annotation too.
    assert.strictEqual(ops.get("platform-gateway"), "update", JSON.stringify([...ops]));
    assert.strictEqual(ops.get("dot-ai-secrets"), "update", JSON.stringify([...ops]));
  });

  it("keeps dot-ai attached on 443 at every moment of that up, and ends with port 80 only redirecting", async () => {
    const gateway = ["get", "gateway", "cluster-gateway", "-n", "gateway-system"];
    const https = (gw: KubeObject) => (gw.status?.listeners ?? []).find((l: KubeObject) => l.name === "https");
    const http = (gw: KubeObject) => (gw.status?.listeners ?? []).find((l: KubeObject) => l.name === "http");
    const dotAiAccepted = () =>
      (kubectlJson(["get", "httproute", "dot-ai", "-n", "dot-ai"]).status?.parents ?? []).some(
        (p: KubeObject) =>
          p.controllerName === EG_CONTROLLER &&
          (p.conditions ?? []).some((c: KubeObject) => c.type === "Accepted" && c.status === "True"),
      );
    await eventually("dot-ai attached on both ports before the up (the old code served it on 80 too)", () => {
      const gw = kubectlJson(gateway);
      return https(gw)?.attachedRoutes === 1 && http(gw)?.attachedRoutes === 1 && dotAiAccepted();
    });

    const up = startPulumi(STACK, ["up", "--yes", "--skip-preview", "--suppress-progress"]);
    const gaps: string[] = [];
    let polls = 0;
    await whileRunning(
      up,
      () => {
        polls++;
        const attached = https(kubectlJson(gateway))?.attachedRoutes;
        if (attached !== 1 || !dotAiAccepted())
          gaps.push(`${new Date().toISOString()} https attachedRoutes=${attached}`);
        return false;
      },
      600_000,
      250,
    );
    const result = await up.done;
    assert.strictEqual(result.status, 0, result.stderr.slice(-3000));
    assert.ok(polls >= 5, `polled ${polls} times during the up`);
    assert.deepStrictEqual(gaps, [], "443 lost dot-ai's route during the up");
    await eventually(
      "port 80 to count only the redirect, admitted from gateway-system alone",
      () => {
        const gw = kubectlJson(gateway);
        const redirect = kubectlJson(["get", "httproute", "cluster-gateway-https-redirect", "-n", "gateway-system"]);
        return (
          gw.spec.listeners[0].allowedRoutes.namespaces.from === "Same" &&
          http(gw)?.attachedRoutes === 1 &&
          (redirect.status?.parents ?? []).some((p: KubeObject) =>
            (p.conditions ?? []).some((c: KubeObject) => c.type === "Accepted" && c.status === "True"),
          )
        );
      },
      60_000,
    );
    assert.strictEqual(secretData()["auth-token"], token, "the token is unchanged: the password was not replaced");
    assert.strictEqual(podTemplate().image, before_.image, "the release was not reinstalled");
    assertCrdsInRelease(uids);
    pulumi(STACK, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"]);
  });

  it(`moves with one pulumi up: the token unchanged, the pods rolled onto chart ${TO}, all Ready`, async () => {
    setConfig(STACK, { chart: chartPackage(TO) });
    pulumiUp(STACK);
    assert.strictEqual(secretData()["auth-token"], token, "the token is unchanged");
    const after = podTemplate();
    assert.strictEqual(after.chartLabel, `dot-ai-${TO}`);
    assert.notStrictEqual(after.image, before_.image, "the pod template has the new chart's image");
    for (const name of deploymentsOf(TO)) {
      await eventually(`${name} Ready on chart ${TO}`, () => deploymentReady(name));
    }
    await eventually("Qdrant Ready, its claim still Bound", qdrantReady);
    const outputs = JSON.parse(pulumi(STACK, ["stack", "output", "--json"]).stdout) as KubeObject;
    assert.strictEqual(outputs.url, "https://dot-ai.example.com");
  });

  it("is idempotent on the new chart, then destroys cleanly", async () => {
    pulumi(STACK, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"]);
    pulumi(STACK, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
    await eventually("namespace dot-ai to be deleted", () => !exists(["namespace", "dot-ai"]));
  });
});

describe("a dev stack deployed by the code before the Gateway API bundle became one Helm release", () => {
  timeSuite("upgrade dev: CRDs into the bundle's release");
  const DEV = "dev";
  let earlierProject = "";
  let uids: Record<string, string> = {};
  let token = "";

  before(async () => {
    earlierProject = projectAt(BEFORE_BUNDLE_RELEASE, DEV);
    upWith(earlierProject, DEV);
    await eventually("dot-ai Ready", () => deploymentReady("dot-ai"));
    uids = crdUids();
    token = secretData()["auth-token"];
    assert.ok(Object.keys(uids).length > 0, "the earlier code installed the CRDs");
  });

  after(() => {
    if (earlierProject) fs.rmSync(earlierProject, { recursive: true, force: true });
  });

  it("previews the move as such: each CRD leaves the state (retained), the release and one ownership patch per CRD are created, nothing else but updates", () => {
    const preview = pulumi(DEV, ["preview", "--json", "--suppress-progress"]);
    const ops = plannedOperations(preview.stdout);
    const changed = [...ops].filter(([, op]) => op !== "same" && op !== "update");
    assert.deepStrictEqual(
      changed.filter((o) => !isBundleMove(o)),
      [],
      JSON.stringify(changed),
    );
    for (const name of Object.keys(uids)) {
      assert.strictEqual(ops.get(name), "delete", `${name} leaves the state`);
      assert.strictEqual(ops.get(`gateway-api-crds-adopt-${name}`), "create", `${name} gets Helm's ownership`);
    }
    // The release the prod suite above left in place (retained, shared) is imported, then updated.
    const steps = (JSON.parse(preview.stdout) as { steps?: { op: string; urn: string }[] }).steps ?? [];
    const releaseOps = steps.filter((st) => st.urn.endsWith(`::${BUNDLE_RELEASE.resource}`)).map((st) => st.op);
    const left = bundleRevisions();
    assert.ok(
      left.length > 0 ? releaseOps.includes("import") : releaseOps.includes("create"),
      JSON.stringify(releaseOps),
    );
  });

  it("moves in one pulumi up: no CRD deleted or recreated, all owned by the release, the token kept, then no changes", () => {
    pulumiUp(DEV);
    assertCrdsInRelease(uids);
    assert.strictEqual(secretData()["auth-token"], token);
    pulumi(DEV, ["preview", "--diff", "--expect-no-changes", "--suppress-progress"]);
  });

  it("destroys cleanly, keeping the CRDs", async () => {
    pulumi(DEV, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
    await eventually("namespace dot-ai to be deleted", () => !exists(["namespace", "dot-ai"]));
    assert.deepStrictEqual(crdUids(), uids, "the CRDs kept (Helm's keep policy)");
  });
});

/**
 * Moving a running stack from the floor chart to the newest one is a config change and one
 * `pulumi up`: the token stays, the pods roll onto the new chart, and everything is Ready again.
 */
import * as assert from "assert";

import { CHART_VERSIONS, deployment, deploymentReady, deploymentsOf, qdrantReady, secretData } from "./dot-ai";
import { KubeObject, chartPackage, eventually, exists, pulumi, pulumiUp, setConfig, timeSuite } from "./tools";

const [FROM, TO] = [CHART_VERSIONS[0], CHART_VERSIONS[CHART_VERSIONS.length - 1]];
const STACK = "prod";

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

  before(async () => {
    setConfig(STACK, { chart: chartPackage(FROM) });
    pulumiUp(STACK);
    await eventually(`dot-ai on chart ${FROM} Ready`, () => deploymentReady("dot-ai") && qdrantReady());
    token = secretData()["auth-token"];
    before_ = podTemplate();
    assert.strictEqual(before_.chartLabel, `dot-ai-${FROM}`);
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
    pulumi(STACK, ["preview", "--expect-no-changes", "--suppress-progress"]);
    pulumi(STACK, ["destroy", "--yes", "--skip-preview", "--suppress-progress"]);
    await eventually("namespace dot-ai to be deleted", () => !exists(["namespace", "dot-ai"]));
  });
});

import { judgeQdrantStorage } from "../../cluster/storage-check";
import type { Expectations } from "../expectations";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "qdrant";
const TITLE = "Bundled Qdrant and its claim";

export function checkQdrant(x: Expectations, s: Snapshot): CheckResult {
  const app = x.app;
  if (!app) return skip(ID, TITLE, "a platform stack deploys no dot-ai");
  if (!app.qdrant) return skip(ID, TITLE, "the stack uses an external Qdrant (dot-ai-gateway:qdrantUrl)");
  const q = s.qdrant;
  if (!q) return skip(ID, TITLE, "the cluster's storage could not be read");
  const claim = app.qdrant.claimName;
  const phase = q.storage.claimPhase;
  const sts = q.statefulSet;
  if (phase !== "Bound") {
    const verdict = judgeQdrantStorage(q.storage, app.namespace, claim);
    if (!verdict.ok) {
      return fail(
        ID,
        TITLE,
        `claim ${claim} is ${phase ?? "missing"}`,
        `it cannot bind: ${verdict.problem}; the Qdrant pod stays Pending`,
        [verdict.fix],
      );
    }
    return fail(
      ID,
      TITLE,
      `claim ${claim} is ${phase ?? "missing"}`,
      phase === undefined
        ? `the claim does not exist: the Qdrant StatefulSet ${app.qdrant.statefulSet} ${sts ? "has not created it" : "does not exist either"}`
        : `the claim has not bound yet although the cluster could bind it (${verdict.reason})`,
      [`kubectl describe pvc ${claim} -n ${app.namespace}`],
    );
  }
  if (!sts) {
    return fail(
      ID,
      TITLE,
      `StatefulSet ${app.qdrant.statefulSet} does not exist`,
      "the chart's Qdrant was deleted by hand",
      [`helm upgrade ${app.releaseName} <the stack's chart> -n ${app.namespace} --reuse-values`],
    );
  }
  const want = sts.spec?.replicas ?? 1;
  const ready = sts.status?.readyReplicas ?? 0;
  if (want === 0 || ready < want) {
    return fail(
      ID,
      TITLE,
      `StatefulSet ${app.qdrant.statefulSet}: ${ready} of ${want} ready`,
      want === 0 ? "it is scaled to 0" : "the Qdrant pod is not Ready",
      [
        want === 0
          ? `kubectl scale statefulset ${app.qdrant.statefulSet} -n ${app.namespace} --replicas=1`
          : `kubectl describe pod ${app.qdrant.statefulSet}-0 -n ${app.namespace}`,
      ],
    );
  }
  return pass(ID, TITLE, `${app.qdrant.statefulSet} ready, claim ${claim} Bound`);
}

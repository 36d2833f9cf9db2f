import type { Expectations } from "../expectations";
import { Deployment, condition } from "../model";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "workload";
const TITLE = "dot-ai Deployments and Service endpoints";

interface Finding {
  summary: string;
  cause: string;
  fix: string[];
}

function judgeDeployment(
  name: string,
  namespace: string,
  d: Deployment | null | undefined,
  pods: Snapshot["podProblems"],
  releaseName: string,
): Finding | undefined {
  if (!d) {
    return {
      summary: `Deployment ${name} does not exist`,
      cause: "the chart renders it; it was deleted by hand, or the release is not installed",
      fix: [
        `helm list -n ${namespace}`,
        `helm upgrade ${releaseName} <the stack's chart> -n ${namespace} --reuse-values   # Helm re-creates missing objects of the release`,
      ],
    };
  }
  const want = d.spec?.replicas ?? 1;
  if (want === 0) {
    return {
      summary: `Deployment ${name} is scaled to 0 replicas`,
      cause: `someone scaled ${name} down (kubectl scale, or an autoscaler); with no pod, nothing serves the route`,
      fix: [`kubectl scale deployment ${name} -n ${namespace} --replicas=1`],
    };
  }
  const available = d.status?.availableReplicas ?? 0;
  if (available >= want) return undefined;
  const problems = pods?.[name] ?? [];
  const progressing = condition(d.status?.conditions, "Progressing");
  const availableCond = condition(d.status?.conditions, "Available");
  const podCauses = problems.map((p) => `pod ${p.pod}: ${p.reason}${p.message ? ` (${p.message})` : ""}`);
  const conditionCause =
    progressing?.status === "False"
      ? `${progressing.reason}: ${progressing.message ?? ""}`
      : (availableCond?.message ?? "its pods are not Ready yet");
  return {
    summary: `Deployment ${name}: ${available} of ${want} replicas available`,
    cause: podCauses.length > 0 ? podCauses.join("; ") : conditionCause,
    fix: [`kubectl describe deployment ${name} -n ${namespace}`, `kubectl get pods -n ${namespace}`],
  };
}

export function checkWorkload(x: Expectations, s: Snapshot): CheckResult {
  const app = x.app;
  if (!app) return skip(ID, TITLE, "a platform stack deploys no dot-ai");
  const findings: Finding[] = [];
  for (const name of app.deployments) {
    const f = judgeDeployment(name, app.namespace, s.deployments?.[name], s.podProblems, app.releaseName);
    if (f) findings.push(f);
  }
  let ready = 0;
  if (s.service === null) {
    findings.push({
      summary: `Service ${app.serviceName} does not exist`,
      cause: "the route's backend is gone: the Gateway answers 500 for every request",
      fix: [`helm upgrade ${app.releaseName} <the stack's chart> -n ${app.namespace} --reuse-values`],
    });
  } else {
    ready = (s.endpointSlices ?? [])
      .flatMap((e) => e.endpoints ?? [])
      .filter((e) => e.conditions?.ready !== false).length;
    if (ready === 0) {
      const explained = findings.some((f) => f.summary.startsWith(`Deployment ${app.serviceName}`));
      findings.push({
        summary: `Service ${app.serviceName} has no ready endpoints`,
        cause: explained
          ? "no dot-ai pod is ready (see above)"
          : "no pod matching the Service's selector is Ready, so the Gateway has nowhere to send requests",
        fix: [`kubectl get pods -n ${app.namespace}`, `kubectl get endpointslices -n ${app.namespace}`],
      });
    }
  }
  if (findings.length > 0) {
    return fail(ID, TITLE, findings.map((f) => f.summary).join("; "), findings.map((f) => f.cause).join("; "), [
      ...new Set(findings.flatMap((f) => f.fix)),
    ]);
  }
  return pass(
    ID,
    TITLE,
    `${app.deployments.join(", ")} available; Service ${app.serviceName} has ${ready} ready endpoint(s)`,
  );
}

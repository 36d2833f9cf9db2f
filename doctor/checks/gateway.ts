import type { Expectations } from "../expectations";
import { gatewayOwnerFix } from "../fixes";
import { Condition, Gateway, Listener, ListenerStatus, condition, conditionState, describeCondition } from "../model";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "gateway";
const TITLE = "Gateway";

/** Listener reasons about its TLS certificate: the tls check owns those. */
const CERTIFICATE_REASONS = ["InvalidCertificateRef", "RefNotPermitted"];

/** Whether a listener's only trouble is its certificate reference (reported by the tls check). */
export function listenerCertificateProblem(
  listener: Listener,
  status: ListenerStatus | undefined,
): Condition | undefined {
  if (!listener.tls?.certificateRefs?.length) return undefined;
  const resolved = condition(status?.conditions, "ResolvedRefs");
  return resolved?.status === "False" && CERTIFICATE_REASONS.includes(resolved.reason ?? "") ? resolved : undefined;
}

function listenerLine(listener: Listener, status: ListenerStatus | undefined): string {
  const host = listener.hostname ? ` ${listener.hostname}` : "";
  return `listener ${listener.name} (${listener.protocol}/${listener.port}${host}): ${status?.attachedRoutes ?? 0} route(s) attached`;
}

interface Problem {
  summary: string;
  cause: string;
}

/** What is wrong with the listeners, leaving certificate references to the tls check. */
function listenerProblems(gw: Gateway): Problem[] {
  const problems: Problem[] = [];
  for (const listener of gw.spec.listeners) {
    const status = (gw.status?.listeners ?? []).find((l) => l.name === listener.name);
    if (listenerCertificateProblem(listener, status)) continue;
    if (!status) {
      problems.push({
        summary: `listener ${listener.name} has no status`,
        cause: "the controller has not processed this listener",
      });
      continue;
    }
    for (const type of ["Accepted", "ResolvedRefs", "Programmed"]) {
      const state = conditionState(status.conditions, type, gw.metadata.generation);
      if (state === "true" || (state === "missing" && type === "Accepted")) continue;
      const c = condition(status.conditions, type);
      problems.push({
        summary: `listener ${listener.name} ${type} ${state === "stale" ? "is for an older generation" : describeCondition(c)}`,
        cause:
          type === "ResolvedRefs"
            ? `listener ${listener.name} refers to something that does not resolve: ${c?.message ?? c?.reason ?? "no detail"}`
            : `listener ${listener.name} is not ${type.toLowerCase()}: ${c?.message ?? c?.reason ?? "no detail"}`,
      });
    }
    const conflicted = condition(status.conditions, "Conflicted");
    if (conflicted?.status === "True") {
      problems.push({
        summary: `listener ${listener.name} Conflicted (${conflicted.reason})`,
        cause: `another listener on the Gateway uses the same port with a conflicting hostname or protocol: ${conflicted.message ?? ""}`,
      });
    }
  }
  return problems;
}

export function checkGateway(x: Expectations, s: Snapshot, prior: ReadonlyMap<string, CheckResult>): CheckResult {
  if (prior.get("crds")?.status === "fail") return skip(ID, TITLE, "the Gateway API CRDs are missing (see crds)");
  const where = `${x.gateway.namespace}/${x.gateway.name}`;
  const gw = s.gateway;
  if (gw === null) {
    const cause =
      x.gateway.owner === "chart"
        ? `the chart creates this Gateway (creation pattern) and it is gone: deleted by hand, or the release failed. Without it, dot-ai's HTTPRoute has no parent and nothing serves ${x.hostname}`
        : `the shared Gateway is gone (deleted by hand, or never created). Without it, dot-ai's HTTPRoute has no parent and nothing serves ${x.hostname || "any route"}`;
    const fix =
      x.gateway.owner === "chart" && x.app
        ? `helm upgrade ${x.app.releaseName} <the stack's chart> -n ${x.app.namespace} --reuse-values   # Helm re-creates objects of the release that are missing; pulumi up does not see them`
        : gatewayOwnerFix(x, "re-create it");
    return fail(ID, TITLE, `Gateway ${where} does not exist`, cause, [fix]);
  }
  if (gw.metadata.deletionTimestamp) {
    return fail(ID, TITLE, `Gateway ${where} is being deleted`, "someone deleted it; a finalizer still holds it", [
      gatewayOwnerFix(x, "re-create it once it is gone"),
    ]);
  }
  const details = gw.spec.listeners.map((l) =>
    listenerLine(
      l,
      (gw.status?.listeners ?? []).find((st) => st.name === l.name),
    ),
  );
  const addresses = (gw.status?.addresses ?? []).map((a) => a.value);
  if (prior.get("gatewayclass")?.status === "fail" && conditionState(gw.status?.conditions, "Programmed") !== "true")
    return skip(ID, TITLE, `Gateway ${where} exists; its status waits on its GatewayClass (see gatewayclass)`);

  const problems: Problem[] = [];
  const describe = `kubectl describe gateway ${x.gateway.name} -n ${x.gateway.namespace}`;
  for (const type of ["Accepted", "Programmed"]) {
    const state = conditionState(gw.status?.conditions, type, gw.metadata.generation);
    if (state === "true") continue;
    const c = condition(gw.status?.conditions, type);
    const pending = state === "missing" || state === "unknown" || state === "stale" || c?.reason === "Pending";
    problems.push({
      summary: `${type} ${state === "stale" ? "is for an older generation" : describeCondition(c)}`,
      cause: pending
        ? `the controller for class ${gw.spec.gatewayClassName} has not acted on the Gateway (not running, or still working)`
        : `the controller refused to ${type === "Accepted" ? "accept" : "program"} it: ${c?.message ?? c?.reason ?? "no detail"}`,
    });
  }
  if (addresses.length === 0) {
    problems.push({
      summary: "no address",
      cause:
        "the controller has not published an address: with a LoadBalancer Service, the cluster may have no load-balancer implementation, or it is still being provisioned",
    });
  }
  problems.push(...listenerProblems(gw));
  if (problems.length > 0) {
    return fail(
      ID,
      TITLE,
      `Gateway ${where}: ${problems.map((p) => p.summary).join("; ")}`,
      [...new Set(problems.map((p) => p.cause))].join("; "),
      [describe, gatewayOwnerFix(x, "fix the Gateway's configuration or controller")],
      details,
    );
  }
  return pass(ID, TITLE, `${where} Programmed, address ${addresses.join(", ")}`, details);
}

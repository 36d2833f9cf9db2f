import type { Expectations } from "../expectations";
import { condition, conditionState, describeCondition } from "../model";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "gatewayclass";
const TITLE = "GatewayClass";

/** The class the Gateway uses: its own spec when it exists, else the stack's setting. */
export function gatewayClassName(x: Expectations, s: Pick<Snapshot, "gateway">): string | undefined {
  return s.gateway?.spec.gatewayClassName ?? x.gateway.className;
}

export function checkGatewayClass(x: Expectations, s: Snapshot, prior: ReadonlyMap<string, CheckResult>): CheckResult {
  if (prior.get("crds")?.status === "fail") return skip(ID, TITLE, "the Gateway API CRDs are missing (see crds)");
  const name = gatewayClassName(x, s);
  if (name === undefined || s.gatewayClass === undefined)
    return skip(ID, TITLE, "no class name known: the Gateway does not exist and the stack does not configure one");
  const setClass =
    x.gateway.owner === "platform"
      ? "the platform team must install a Gateway controller and its GatewayClass"
      : "pulumi config set dot-ai-gateway:gatewayClassName <class>   # a class from: kubectl get gatewayclass";
  const gc = s.gatewayClass;
  if (gc === null) {
    return fail(
      ID,
      TITLE,
      `GatewayClass ${name} does not exist`,
      `no Gateway controller in this cluster offers the class '${name}', so nothing will ever program the Gateway`,
      [`kubectl get gatewayclass   # the classes the installed controllers offer`, setClass],
    );
  }
  const state = conditionState(gc.status?.conditions, "Accepted", gc.metadata.generation);
  const accepted = condition(gc.status?.conditions, "Accepted");
  if (state === "true") return pass(ID, TITLE, `${name} Accepted (controller ${gc.spec.controllerName})`);
  if (state === "false") {
    return fail(
      ID,
      TITLE,
      `${name} is not Accepted: ${describeCondition(accepted)}`,
      `the controller ${gc.spec.controllerName} rejected the class (often invalid parametersRef)`,
      [`kubectl describe gatewayclass ${name}`, setClass],
    );
  }
  return fail(
    ID,
    TITLE,
    `${name} has not been accepted by any controller (Accepted ${state === "stale" ? "is for an older generation" : describeCondition(accepted)})`,
    `no running controller claims controllerName ${gc.spec.controllerName}: the controller is not installed, not running, or serves another name`,
    [`check the controller's pods and logs, then: kubectl get gatewayclass ${name}`, setClass],
  );
}

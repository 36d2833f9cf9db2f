/** Runs every in-cluster check over one snapshot, in the order of the upstream guide's verification. */
import { checkCrds } from "./checks/crds";
import { checkExternalDns } from "./checks/external-dns";
import { checkGateway } from "./checks/gateway";
import { checkGatewayClass } from "./checks/gateway-class";
import { checkQdrant } from "./checks/qdrant";
import { checkRoute } from "./checks/route";
import { checkSecret } from "./checks/secret";
import { checkTls } from "./checks/tls";
import { checkWorkload } from "./checks/workload";
import type { Expectations } from "./expectations";
import type { CheckResult } from "./result";
import type { Snapshot } from "./snapshot";

type Check = (x: Expectations, s: Snapshot, prior: ReadonlyMap<string, CheckResult>) => CheckResult;

const CHECKS: readonly Check[] = [
  checkCrds,
  checkGatewayClass,
  checkGateway,
  checkRoute,
  checkTls,
  checkWorkload,
  checkQdrant,
  checkSecret,
  checkExternalDns,
];

/** Each check sees the results before it, so that a consequence is not reported as a second failure. */
export function diagnose(x: Expectations, s: Snapshot): CheckResult[] {
  const prior = new Map<string, CheckResult>();
  for (const check of CHECKS) {
    const result = check(x, s, prior);
    prior.set(result.id, result);
  }
  return [...prior.values()];
}

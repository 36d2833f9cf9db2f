/** The fix lines that several checks share. */
import type { Expectations } from "./expectations";

/** Re-applies everything the stack owns, after reading what drifted. */
export function refreshFix(x: Pick<Expectations, "stack">): string {
  return `pulumi up --refresh --stack ${x.stack}   # re-creates what the stack owns and was changed or deleted by hand`;
}

/** Who fixes something on the Gateway: this stack, or the platform team for an app stack. */
export function gatewayOwnerFix(x: Expectations, what: string): string {
  if (x.gateway.owner === "platform") {
    const owner = x.gateway.platformStack ? `the platform stack ${x.gateway.platformStack}` : "the platform team";
    return `${owner} must ${what} (this stack does not own Gateway ${x.gateway.namespace}/${x.gateway.name})`;
  }
  return refreshFix(x);
}

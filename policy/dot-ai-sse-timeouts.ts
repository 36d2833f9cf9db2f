/**
 * SSE timeouts set on the dot-ai release (advisory): values `gateway.timeouts.request` and
 * `gateway.timeouts.backendRequest` both set.
 *
 * Why: MCP clients hold a Server-Sent Events stream open for as long as a session lasts. Gateway
 * implementations cut a request after their own default (often 15 to 60 s) unless the HTTPRoute
 * rule sets `timeouts`, which the chart copies from these two values; the upstream guide uses
 * 3600s for both. The chart has defaults today, but a release should not depend on a default the
 * next chart version may change: say it in the values, where a review sees it.
 */

import { helmTruthy, releaseValuesCheck } from "./lib/dot-ai";
import { ResourceCheck, resourcePolicy } from "./lib/resources";
import { UNKNOWN, at } from "./lib/values";

export const NAME = "dot-ai-sse-timeouts";

const KEYS = ["request", "backendRequest"] as const;

const DESCRIPTION = "The dot-ai release sets the HTTPRoute timeouts SSE streams need (gateway.timeouts.*, e.g. 3600s).";

const check: ResourceCheck = releaseValuesCheck("dot-ai", (values, _res, report) => {
  const create = at(values, "gateway", "create");
  const name = at(values, "gateway", "name");
  if (create === UNKNOWN || name === UNKNOWN) return;
  // No HTTPRoute without a Gateway to attach to (reference or creation pattern).
  if (!helmTruthy(create) && !helmTruthy(name)) return;
  const missing = KEYS.filter((key) => {
    const value = at(values, "gateway", "timeouts", key);
    return value !== UNKNOWN && (typeof value !== "string" || value.trim() === "");
  });
  if (missing.length === 0) return;
  report(
    `The dot-ai release does not set ${missing.map((k) => `gateway.timeouts.${k}`).join(" and ")}: the HTTPRoute ` +
      "then depends on the chart's default or, without one, the Gateway implementation's (often well under a " +
      "minute), which cuts long-lived MCP SSE streams. Set both, e.g. 3600s as the upstream guide does.",
  );
});

export const policy = resourcePolicy(NAME, { enforcementLevel: "advisory", severity: "medium" }, DESCRIPTION, check);

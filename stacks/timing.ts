/**
 * Marks how long each step before registering takes (loading the bundle, reading the cluster, each
 * check), as `performance` measures named `dot-ai-gateway: <step>`. Nothing reads them in a normal
 * run; `npm run bench` collects them (scripts/bench-probe.js) into the breakdown of where a
 * `pulumi preview` went, so a check that grows slower shows up by name.
 */
import { performance } from "perf_hooks";

export const MEASURE_PREFIX = "dot-ai-gateway: ";

/** `work`, measured under `step`, whether it succeeds or fails. */
export async function measured<T>(step: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    performance.measure(`${MEASURE_PREFIX}${step}`, { start, end: performance.now() });
  }
}

/** What each check concludes: pass, fail (with the cause in words and the fix) or skipped (why). */

export type Status = "pass" | "fail" | "skip";

export interface CheckResult {
  /** Stable identifier, for `--json` consumers. */
  id: string;
  title: string;
  status: Status;
  /** One line: what was found (pass), what is wrong (fail), or why it was not checked (skip). */
  summary: string;
  /** Further facts worth showing, e.g. per-listener state. */
  details?: string[];
  /** For a failure: why, in plain words. */
  cause?: string;
  /** For a failure: what to run or who must act. */
  fix?: string[];
}

export function pass(id: string, title: string, summary: string, details?: string[]): CheckResult {
  return { id, title, status: "pass", summary, ...(details && details.length > 0 ? { details } : {}) };
}

export function fail(
  id: string,
  title: string,
  summary: string,
  cause: string,
  fix: string[],
  details?: string[],
): CheckResult {
  return { id, title, status: "fail", summary, cause, fix, ...(details && details.length > 0 ? { details } : {}) };
}

export function skip(id: string, title: string, why: string): CheckResult {
  return { id, title, status: "skip", summary: why };
}

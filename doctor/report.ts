/** The checklist for people (colour only on a terminal) and the JSON document for CI. */
import type { CheckResult, Status } from "./result";

export interface Report {
  stack: string;
  /** One line on what the stack is, e.g. "reference pattern, https://dot-ai.example.com". */
  about: string;
  checks: CheckResult[];
}

export function failed(report: Report): boolean {
  return report.checks.some((c) => c.status === "fail");
}

export function counts(checks: readonly CheckResult[]): Record<Status, number> {
  const n: Record<Status, number> = { pass: 0, fail: 0, skip: 0 };
  for (const c of checks) n[c.status]++;
  return n;
}

export function toJson(report: Report): string {
  return JSON.stringify(
    { stack: report.stack, ok: !failed(report), counts: counts(report.checks), checks: report.checks },
    null,
    2,
  );
}

const LABEL: Record<Status, string> = { pass: "PASS", fail: "FAIL", skip: "SKIP" };
const COLOUR: Record<Status, string> = { pass: "\x1b[32m", fail: "\x1b[31m", skip: "\x1b[2m" };
const RESET = "\x1b[0m";

export function toText(report: Report, colour: boolean): string {
  const paint = (status: Status, text: string) => (colour ? `${COLOUR[status]}${text}${RESET}` : text);
  const lines = [`dot-ai doctor: stack ${report.stack} (${report.about})`, ""];
  const indent = " ".repeat(8);
  for (const c of report.checks) {
    const summary = c.status === "skip" ? `skipped: ${c.summary}` : c.summary;
    lines.push(`  ${paint(c.status, LABEL[c.status])}  ${c.title}: ${summary}`);
    for (const d of c.details ?? []) lines.push(`${indent}${d}`);
    if (c.status === "fail") {
      lines.push(`${indent}cause: ${c.cause}`);
      (c.fix ?? []).forEach((f, i) => lines.push(`${indent}${i === 0 ? "fix:   " : "       "}${f}`));
    }
  }
  const n = counts(report.checks);
  lines.push("", `${n.pass} passed, ${paint(n.fail > 0 ? "fail" : "pass", `${n.fail} failed`)}, ${n.skip} skipped`);
  return lines.join("\n");
}

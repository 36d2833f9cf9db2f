import { isOneOf } from "../validators";
import { ConfigReader, setCommand } from "./reader";
import { DEFAULT_MODE_BY_STACK, MODES, Mode } from "./types";

/** The stack's pattern: its `mode`, or the default of a well-known stack. Undefined after a problem. */
export function readMode(r: ConfigReader): Mode | undefined {
  const fallback = DEFAULT_MODE_BY_STACK[r.stack];
  const value = r.optional("mode");
  let mode: Mode | undefined = fallback;
  if (value !== undefined) {
    mode = isOneOf(MODES, value) ? value : undefined;
    if (!mode) {
      r.report(
        "mode",
        `'${value}' is not a mode; use 'reference' (shared Gateway) or 'creation' (chart-created Gateway)`,
        setCommand("mode", "reference"),
      );
    }
  } else if (!mode) {
    r.report(
      "mode",
      `is not set, and stack '${r.stack}' has no default (only 'prod' → reference and 'dev' → creation do)`,
      `${setCommand("mode", "reference")}   # or creation`,
    );
  }
  if (mode === "creation" && r.stack === "prod" && !r.bool("allowCreationModeOnProd", false)) {
    r.report(
      "mode",
      "is 'creation' on the prod stack: prod is meant to use the platform's shared Gateway (reference pattern)",
      `${setCommand("mode", "reference")}, or, if this is really intended, ${setCommand("allowCreationModeOnProd", "true")}`,
    );
  }
  return mode;
}

/**
 * An app stack reads its platform stack's outputs through a `pulumi.StackReference` and checks
 * itself against them before it registers anything else. (Here, not in config/: reading them
 * registers the reference, and the configuration code registers nothing.)
 *
 * StackReference outputs are Outputs; `getOutputDetails` awaits each one as a plain value (the
 * reference is read during `pulumi preview` too, so the values are known then). The checks run on
 * those values, so a mismatch stops `preview` and `up` with every problem listed, and the only
 * thing registered is the reference itself, which reads the other stack's state and creates nothing.
 */
import * as pulumi from "@pulumi/pulumi";

import {
  AppStackConfig,
  ConfigProblem,
  PLATFORM_OUTPUTS,
  PlatformFacts,
  checkAppAgainstPlatform,
  formatProblems,
  platformFactsFromOutputs,
} from "./config";
import type { PlatformOutputName } from "./config/platform";
import { setCommand } from "./config/reader";
import { userError } from "./errors";

/** The Gateway this app stack attaches to, checked; or the program stops listing what is wrong. */
export async function resolvePlatform(config: AppStackConfig): Promise<PlatformFacts> {
  const source = config.platform;
  const app = {
    hostname: config.hostname,
    namespace: config.app.namespace,
    namespaceLabels: config.namespaceLabels,
    plaintextHttp: config.plaintextHttp,
  };
  // Explicit settings were checked with the rest of the configuration.
  if (source.kind === "explicit") return source.facts;

  const outputs = await readPlatformOutputs(source.stack);
  let problems: ConfigProblem[];
  let facts: PlatformFacts | undefined;
  if ("problem" in outputs) {
    problems = [
      {
        key: "platformStack",
        problem: `'${source.stack}' cannot be read: ${outputs.problem}`,
        fix: `check the name (pulumi stack ls --all), deploy the platform first (pulumi up --stack ${source.stack}), or ${setCommand("platformStack", "<organization>/<project>/<platform stack>")}`,
      },
    ];
  } else {
    const read = platformFactsFromOutputs(source.stack, outputs);
    if ("problems" in read) problems = read.problems;
    else {
      facts = read.facts;
      problems = checkAppAgainstPlatform(app, facts, source.stack);
    }
  }
  if (problems.length > 0 || !facts) {
    throw userError(formatProblems(problems, `This app stack does not fit platform stack ${source.stack}`));
  }
  return facts;
}

/** Every output of the contract, as plain values; a secret output is read like any other. */
async function readPlatformOutputs(
  stack: string,
): Promise<Partial<Record<PlatformOutputName, unknown>> | { problem: string }> {
  const reference = new pulumi.StackReference("platform-stack", { name: stack });
  try {
    const entries = await Promise.all(
      PLATFORM_OUTPUTS.map(async (name) => {
        const details = await reference.getOutputDetails(name);
        return [name, details.value ?? details.secretValue] as const;
      }),
    );
    return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

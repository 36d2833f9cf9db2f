import * as pulumi from "@pulumi/pulumi";

/**
 * An error for the user, shown without a stack trace (Pulumi hides RunError stacks anyway).
 *
 * The stack is replaced before anything reads it: formatting it would make source-map-support map
 * every frame through the program's and the SDK's source maps, which under Pulumi's ts-node took
 * 20-30 seconds before the message appeared (seen in the end-to-end tests).
 */
export function userError(message: string): pulumi.RunError {
  const error = new pulumi.RunError(message);
  error.stack = message;
  return error;
}

/**
 * `Promise.all` for the checks made before anything is registered, which reports, like the
 * configuration's validation, every problem they find at once: one error holding each check's
 * message. An unexpected error (not a user error) is passed on as it is.
 */
export async function allChecks<T extends readonly unknown[] | []>(
  checks: T,
): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const settled = await Promise.allSettled(checks);
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const unexpected = failures.find((e) => !(e instanceof pulumi.RunError));
    if (unexpected !== undefined) throw unexpected;
    throw userError(failures.map((e) => (e as Error).message).join("\n\n"));
  }
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {
    -readonly [P in keyof T]: Awaited<T[P]>;
  };
}

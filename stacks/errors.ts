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

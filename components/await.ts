/**
 * Annotations that tell pulumi-kubernetes (v4) how to await a resource it cannot judge by itself.
 * Custom resources such as Gateways and Certificates are otherwise considered ready as soon as
 * the API server accepts them.
 */
export const AWAIT_TIMEOUT_SECONDS = 600;

/** Wait for a status condition to be True: the equivalent of `kubectl wait --for=condition=X`. */
export function waitForCondition(condition: string, timeoutSeconds = AWAIT_TIMEOUT_SECONDS): Record<string, string> {
  return { "pulumi.com/waitFor": `condition=${condition}`, "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/** Do not wait at all, e.g. where no controller will ever set the condition (local test clusters). */
export const SKIP_AWAIT: Readonly<Record<string, string>> = { "pulumi.com/skipAwait": "true" };

export function awaitAnnotations(wait: boolean, condition: string): Record<string, string> {
  return wait ? waitForCondition(condition) : { ...SKIP_AWAIT };
}

import * as pulumi from "@pulumi/pulumi";

/**
 * Annotations that tell pulumi-kubernetes (v4) how to await a resource it cannot judge by itself.
 * Custom resources such as Gateways and Certificates are otherwise considered ready as soon as
 * the API server accepts them.
 */
export const AWAIT_TIMEOUT_SECONDS = 600;

/** Wait for a status condition to be True: the equivalent of `kubectl wait --for=condition=X`. */
function waitForCondition(condition: string, timeoutSeconds = AWAIT_TIMEOUT_SECONDS): Record<string, string> {
  return { "pulumi.com/waitFor": `condition=${condition}`, "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/** Do not wait at all, e.g. where no controller will ever set the condition (local test clusters). */
export const SKIP_AWAIT: Readonly<Record<string, string>> = { "pulumi.com/skipAwait": "true" };

export function awaitAnnotations(
  wait: boolean,
  condition: string,
  timeoutSeconds = AWAIT_TIMEOUT_SECONDS,
): Record<string, string> {
  return wait ? waitForCondition(condition, timeoutSeconds) : { ...SKIP_AWAIT };
}

/** "10m", "1m30s", "45s": for messages. */
export function formatSeconds(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m === 0 ? `${s}s` : s === 0 ? `${m}m` : `${m}m${s}s`;
}

/** After this long without the condition, the program explains the wait (at most half the timeout). */
export function explainAfterSeconds(timeoutSeconds: number): number {
  return Math.min(60, Math.ceil(timeoutSeconds / 2));
}

export interface WaitExplanation {
  /** The resource whose condition is awaited. */
  resource: pulumi.CustomResource;
  /**
   * Where the message is attached: a component the resource belongs to. (Not the resource itself:
   * the Node.js SDK learns a resource's URN only when the provider has finished with it, and a
   * log attached to it would wait for that.)
   */
  on: pulumi.Resource;
  /** Resources the provider finishes before it starts this one (its dependsOn). */
  after: pulumi.CustomResource[];
  timeoutSeconds: number;
  /** What it waits for and what to check, in the user's words. */
  message: pulumi.Input<string>;
  /** Where the message goes (tests); pulumi.log.warn by default. */
  log?: (message: string, resource: pulumi.Resource) => unknown;
}

/**
 * When the provider waits for a condition, all it says on a timeout is that the resource "failed to
 * fully initialize or become live: timed out waiting for the condition". It cannot be told more,
 * but the program can: the resource's id resolves only when the provider's wait is over, so if it
 * is still pending a while after everything the resource depends on is done, the provider is
 * waiting on a controller, and this warning (on the resource's component, so the CLI lists it with
 * the error) says which controller and what to check. Nothing is said when the wait ends in time,
 * nor in a preview, where nothing waits.
 */
export function explainSlowWait(args: WaitExplanation): void {
  if (pulumi.runtime.isDryRun()) return;
  const log = args.log ?? ((message: string, resource: pulumi.Resource) => pulumi.log.warn(message, resource));
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  pulumi.all([args.message, ...args.after.map((r) => r.id)]).apply(([message]) => {
    if (done) return;
    timer = setTimeout(
      () => {
        if (done) return;
        Promise.resolve(log(message, args.on)).catch(() => undefined);
      },
      explainAfterSeconds(args.timeoutSeconds) * 1000,
    );
    // Never keep the program alive for this, e.g. after the deployment has failed elsewhere.
    timer.unref();
  });
  args.resource.id.apply(() => {
    done = true;
    if (timer) clearTimeout(timer);
  });
}

/** What a Gateway wait (the shared one, or the chart's) needs and what to check; shown when it takes long. */
export function gatewayWaitMessage(
  namespace: string,
  name: string,
  className: pulumi.Input<string>,
  timeoutSeconds: number,
): pulumi.Output<string> {
  return pulumi.interpolate`Waiting (up to ${formatSeconds(timeoutSeconds)}, dot-ai-gateway:waitTimeout) for Gateway ${namespace}/${name} to be Programmed. Only the Gateway controller of GatewayClass '${className}' sets that. Check: kubectl get gatewayclass ${className} (it must exist and be ACCEPTED True, i.e. a controller runs for it); kubectl describe gateway -n ${namespace} ${name} (its conditions and events say what the controller thinks). With no Gateway controller in this cluster, run: pulumi config set dot-ai-gateway:waitForGateway false`;
}

/** What the Certificate wait needs and what to check; shown when it takes long. */
export function certificateWaitMessage(
  namespace: string,
  name: string,
  clusterIssuer: pulumi.Input<string> | undefined,
  timeoutSeconds: number,
): pulumi.Output<string> {
  return pulumi.interpolate`Waiting (up to ${formatSeconds(timeoutSeconds)}, dot-ai-gateway:waitTimeout) for Certificate ${namespace}/${name} to be Ready. Only cert-manager sets that, issuing it through ClusterIssuer '${clusterIssuer ?? ""}'. Check: cert-manager's controller runs (its logs); kubectl get clusterissuer ${clusterIssuer ?? ""} (it must exist and be READY True); kubectl describe certificate -n ${namespace} ${name} (its conditions and events), then kubectl get certificaterequest,order,challenge -n ${namespace}. Without cert-manager in this cluster, run: pulumi config set dot-ai-gateway:waitForCertificate false`;
}

/**
 * Until the (single) Gateway an HTTPRoute names has accepted it: route conditions live per parent,
 * in `status.parents[]`, not in `status.conditions`, so `condition=` cannot see them.
 */
export const ROUTE_ACCEPTED = `jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}=True`;

/** Wait until the HTTPRoute is Accepted (see ROUTE_ACCEPTED). */
export function waitForRouteAccepted(timeoutSeconds = AWAIT_TIMEOUT_SECONDS): Record<string, string> {
  return { "pulumi.com/waitFor": ROUTE_ACCEPTED, "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/** A Patch whose only job is to make the provider wait on an object someone else owns. */
export interface WaitPatch {
  /** The Patch's annotations: the condition, a constant. */
  readonly annotations: Readonly<Record<string, string>>;
  /** Its resource options: the timeout, and no diff on the annotations. */
  readonly options: Pick<pulumi.CustomResourceOptions, "customTimeouts" | "ignoreChanges">;
}

/**
 * The annotations and options of a wait-only Patch, for `waitFor` (`condition=X` or `jsonpath=…`).
 *
 * Its annotations are not diffed. The provider waits by watching the object, and it keeps as the
 * Patch's live state the last copy the watch gave it whose generation is not older than its own
 * apply's. An annotation does not change the generation, and the watch starts with a list the
 * API server may answer from its watch cache, so when the condition already holds (the Gateway
 * was Programmed before the Patch came) the wait can end on a copy from just before the Patch,
 * without its annotations. The next preview then showed the Patch as a change (seen once in CI).
 * Ignoring annotations is safe only because they never vary: the timeout, the one thing that
 * would, goes into `customTimeouts` instead, which the provider prefers to the annotation. It
 * applies when the Patch is created and when the engine updates it again after a failed wait.
 */
export function waitPatch(waitFor: string, timeoutSeconds: number): WaitPatch {
  const timeout = `${timeoutSeconds}s`;
  return {
    annotations: { "pulumi.com/waitFor": waitFor },
    options: { customTimeouts: { create: timeout, update: timeout }, ignoreChanges: ["metadata.annotations"] },
  };
}

import * as semver from "semver";

/**
 * What each Gateway API standard bundle serves, for the objects this program and the chart create.
 *
 * Read from the bundles themselves (`config/crd/standard/*.yaml` of `sigs.k8s.io/gateway-api` at
 * each tag; the release's `standard-install.yaml` is the same files concatenated):
 *
 *   bundle        Gateway   HTTPRoute  ReferenceGrant      safe-upgrades policy
 *   v0.8.x        v1beta1   v1beta1    v1alpha2, v1beta1   -
 *   v1.0 - v1.4   v1        v1         v1beta1             -
 *   v1.5 - v1.6   v1        v1         v1, v1beta1         ValidatingAdmissionPolicy + binding
 *
 * The safe-upgrades policy (`safe-upgrades.gateway.networking.k8s.io`) makes the API server refuse
 * a Gateway API CRD whose `bundle-version` annotation is older than the policy allows (v1.5.0's
 * refuses v0.x and v1.0-v1.4; v1.6's also v1.5), and experimental CRDs over standard ones. Once a
 * cluster has it, installing an older bundle fails until someone deletes the policy on purpose.
 */

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";

/** The newest bundle verified with a real Gateway controller (Envoy Gateway 1.9) on this project's cluster. */
export const NEWEST_VERIFIED_GATEWAY_API = "v1.6.3";

/** Gateway and HTTPRoute `v1`, which the program and the chart create, are served from this bundle on. */
export const GATEWAY_API_FLOOR = "v1.0.0";

/** ReferenceGrant `v1` is served from this bundle on; `v1beta1` before (and still alongside in v1.5-v1.6). */
export const REFERENCE_GRANT_V1_SINCE = "v1.5.0";

export type ReferenceGrantVersion = "v1" | "v1beta1";

/** Which namespaces may attach routes to a listener (`allowedRoutes.namespaces.from`). */
export type AllowedRoutesFrom = "All" | "Same" | "Selector";
export const ALLOWED_ROUTES: readonly AllowedRoutesFrom[] = ["All", "Same", "Selector"];

/** The API versions this program uses on a bundle (at or above the floor). */
export interface GatewayApiVersions {
  gateway: "v1";
  httpRoute: "v1";
  referenceGrant: ReferenceGrantVersion;
}

/** Whether bundle tag `version` (`vX.Y.Z[-pre]`) is `since` or newer; a release candidate of `since` counts. */
export function bundleAtLeast(version: string, since: string): boolean {
  return semver.valid(version) !== null && semver.gte(version, `${since}-0`);
}

export function gatewayApiVersions(bundle: string): GatewayApiVersions {
  return {
    gateway: "v1",
    httpRoute: "v1",
    referenceGrant: bundleAtLeast(bundle, REFERENCE_GRANT_V1_SINCE) ? "v1" : "v1beta1",
  };
}

/**
 * A prod Gateway's listeners never admit routes from `All` namespaces (mandatory on the stacks in
 * `prodStacks`, default `prod`).
 *
 * Why: with `All`, any namespace in the cluster, i.e. anyone who may create an HTTPRoute anywhere,
 * can attach a route to the production Gateway and take traffic for any hostname the listener
 * serves (including a more specific path on dot-ai's own hostname). Production Gateways admit
 * routes from namespaces chosen on purpose: `Same`, or a `Selector` on a label the platform team
 * sets (the reference pattern labels the app namespace `dot-ai-gateway/shared-gateway`).
 *
 * The stack is the one in the resource's URN (`urn:pulumi:<stack>::<project>::…`). Checked on
 * Gateways and GatewayPatches (which can add listeners to a Gateway made elsewhere).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";

import { describeListener, listenersOf } from "./lib/gateway";
import {
  PROD_STACKS_SCHEMA,
  isGatewayLike,
  isProdStack,
  objectName,
  prodStacksOf,
  resourceValidation,
  stackOf,
} from "./lib/resources";
import { shown } from "./lib/values";

export const NAME = "prod-gateway-no-all-namespaces";

export const policy: ResourceValidationPolicy = {
  name: NAME,
  description: "On prod stacks, no Gateway listener admits routes from All namespaces.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { prodStacks: PROD_STACKS_SCHEMA } },
  validateResource: resourceValidation(NAME, (res, config, report) => {
    if (!isGatewayLike(res.type) || !isProdStack(res.urn, prodStacksOf(config))) return;
    const { name, namespace } = objectName(res.props);
    const open = listenersOf(res.props).filter((l) => l.from === "All");
    if (open.length === 0) return;
    report(
      `Gateway ${shown(namespace)}/${shown(name)} on prod stack '${stackOf(res.urn)?.stack}': ` +
        `${open.map(describeListener).join(", ")} admit${open.length === 1 ? "s" : ""} routes from All namespaces, ` +
        "so an HTTPRoute in any namespace of the cluster can take its traffic. Use allowedRoutes.namespaces.from: " +
        "Selector (with a label only the platform sets on the app namespaces) or Same.",
    );
  }),
};

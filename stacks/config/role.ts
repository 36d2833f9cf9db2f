import { API_KEY_PROVIDERS } from "../../components/chart-contract";
import { isOneOf } from "../validators";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import { ROLES, Role, apiKeyConfigKey } from "./types";

/** Settings of dot-ai itself: a platform stack deploys no dot-ai. */
const APP_KEYS = [
  "hostname",
  "namespace",
  "releaseName",
  "chart",
  "chartVersion",
  "aiProvider",
  "aiModel",
  "qdrantUrl",
  "requestTimeout",
  "backendRequestTimeout",
  "tokenRotation",
  "agentAccess",
  "agentWriteNamespaces",
  ...API_KEY_PROVIDERS.map(apiKeyConfigKey),
];

/** Settings of what only the Gateway's owner creates: an app stack creates neither CRDs nor a Gateway. */
const GATEWAY_OWNER_KEYS = [
  "gatewayClassName",
  "allowedRoutes",
  "clusterIssuer",
  "tlsSecretName",
  "waitForGateway",
  "waitForCertificate",
  "waitTimeout",
  "installCrds",
  "gatewayApiVersion",
  "gatewayApiCrdsFile",
  "retainCrds",
];

/** What an app stack reads from the platform stack's outputs once `platformStack` is set. */
export const FROM_PLATFORM_STACK_KEYS = ["gatewayName", "gatewayNamespace", "https", "domain"];

const CREATION_ONLY_KEYS = ["gatewayAnnotations", "allowCreationModeOnProd"];
const PLATFORM_ROLE_KEYS = ["routeNamespaces", "protectGateway"];
const APP_ROLE_KEYS = ["platformStack", "namespaceLabels"];

/**
 * The stack's role, after refusing every setting that contradicts it (a setting that would do
 * nothing in this role is refused, never ignored). Undefined after a problem with `role` itself.
 */
export function readRole(r: ConfigReader): Role | undefined {
  const role = r.str("role", "combined");
  if (!isOneOf(ROLES, role)) {
    r.report(
      "role",
      `'${role}' is not a role; use 'combined' (platform and dot-ai in one stack), 'platform' (the shared Gateway only) or 'app' (dot-ai on a Gateway another stack owns)`,
      `${setCommand("role", "platform")}   # or app, or ${removeCommand("role")} for combined`,
    );
    return undefined;
  }
  if (role === "combined") {
    r.refuse(PLATFORM_ROLE_KEYS, "applies to platform stacks (role platform) only; this stack's role is combined");
    r.refuse(APP_ROLE_KEYS, "applies to app stacks (role app) only; this stack's role is combined");
    return role;
  }
  const mode = r.optional("mode");
  if (mode !== undefined && mode !== "reference") {
    r.report(
      "mode",
      `is '${mode}', but role '${role}' is the reference pattern split in two (a shared Gateway that app stacks attach to); the creation pattern needs role combined`,
      `${removeCommand("mode")}, or ${removeCommand("role")} to deploy the creation pattern in one stack`,
    );
  }
  if (role === "platform") {
    r.refuse(
      [...APP_KEYS, ...APP_ROLE_KEYS],
      "is a setting of dot-ai, which a platform stack does not deploy (role platform: CRDs, Gateway namespace, Certificate, shared Gateway); set it on an app stack",
    );
    r.refuse(CREATION_ONLY_KEYS, "applies to the creation pattern (role combined), not to a platform stack");
    return role;
  }
  r.refuse(
    [...GATEWAY_OWNER_KEYS, ...PLATFORM_ROLE_KEYS],
    "is a setting of the Gateway's owner; an app stack (role app) creates no Gateway and installs no CRDs: set it on the platform stack",
  );
  r.refuse(CREATION_ONLY_KEYS, "applies to the creation pattern (role combined), not to an app stack");
  if (r.has("platformStack")) {
    r.refuse(
      FROM_PLATFORM_STACK_KEYS,
      "comes from the platform stack's outputs once platformStack is set; setting it here as well could only contradict them",
    );
  }
  return role;
}

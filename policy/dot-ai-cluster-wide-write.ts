/**
 * The chart's cluster-wide write access flagged (advisory).
 *
 * Why: unless the values say `serviceAccount.create: false`, the dot-ai chart renders a
 * ServiceAccount, a ClusterRole named after the release granting `*` on `*` resources in every API
 * group (get/list/watch and create/update/patch/delete), and its ClusterRoleBinding. Whoever holds
 * the MCP bearer token can then have the agent change anything in the cluster, Secrets and RBAC
 * included. With `serviceAccount.create: false` the pods run as `serviceAccount.name`, to which the
 * platform grants scoped RBAC (read-only, or write in chosen namespaces) outside the chart; the
 * chart has no values for the rules themselves.
 */

import { chartFullname, helmTruthy, releaseValuesCheck } from "./lib/dot-ai";
import { ResourceCheck, resourcePolicy } from "./lib/resources";
import { UNKNOWN, at } from "./lib/values";

export const NAME = "dot-ai-cluster-wide-write";

const DESCRIPTION = "The dot-ai release does not get the chart's ClusterRole with write access to every resource.";

const check: ResourceCheck = releaseValuesCheck("dot-ai", (values, res, report) => {
  const create = at(values, "serviceAccount", "create");
  // The chart's template is `if .Values.serviceAccount.create` (default true): any falsy value turns it off.
  if (create === UNKNOWN || (create !== undefined && !helmTruthy(create))) return;
  const fullname = chartFullname(res, values);
  const role = fullname === UNKNOWN ? "named after the release" : `'${fullname}'`;
  report(
    `The dot-ai release does not set serviceAccount.create: false, so the chart creates a ClusterRole ${role} ` +
      "with create/update/patch/delete (and get/list/watch) on */* in every API group, bound to the server's " +
      "ServiceAccount: the bearer token's holder can have the agent change anything in the cluster. Set " +
      "serviceAccount.create: false and serviceAccount.name to a ServiceAccount you grant scoped RBAC; with " +
      "dot-ai-gateway: pulumi config set dot-ai-gateway:agentAccess read (or read-write-namespaces).",
  );
});

export const policy = resourcePolicy(NAME, { enforcementLevel: "advisory", severity: "high" }, DESCRIPTION, check);

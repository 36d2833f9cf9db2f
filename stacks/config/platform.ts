/**
 * The two halves of the reference pattern split across stacks: what a platform stack reads and
 * exports, and how an app stack learns about, and checks itself against, the Gateway it joins.
 *
 * The platform stack's outputs are a contract (`PLATFORM_OUTPUTS`, versioned by `platformContract`):
 * `stackOutputs` writes them and `platformFactsFromOutputs` reads them back on the app side.
 */
import { refuseMigrationOnPlatform } from "./migration";
import { checkDomain, checkHostname, isCoveredByWildcard, isOneOf, isStringMap } from "../validators";
import { readCrds } from "./crds";
import { readGatewayClassName, readSharedGateway } from "./gateway";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import { readTransport } from "./transport";
import {
  ALLOWED_ROUTES,
  AllowedRoutesFrom,
  CONFIG_NAMESPACE,
  ConfigProblem,
  PlatformFacts,
  PlatformSource,
  PlatformStackConfig,
} from "./types";

/** Bumped when the meaning of the platform stack's outputs changes; app stacks refuse other values. */
export const PLATFORM_CONTRACT = 1;

/** The platform stack outputs app stacks read, by name. */
export const PLATFORM_OUTPUTS = [
  "role",
  "platformContract",
  "gatewayName",
  "gatewayNamespace",
  "allowedRoutes",
  "routeNamespaceLabels",
  "https",
  "plaintextHttp",
  "certificateDomain",
  "gatewayApiVersion",
] as const;
export type PlatformOutputName = (typeof PLATFORM_OUTPUTS)[number];

/** A platform stack: the shared Gateway's settings, with no app to derive anything from. */
export function readPlatformStack(r: ConfigReader): PlatformStackConfig {
  refuseMigrationOnPlatform(r);
  const crds = readCrds(r);
  const className = readGatewayClassName(r, "reference");
  const { https, plaintextHttp } = readTransport(r, "Every app on the shared Gateway is");
  const sharedGateway = readSharedGateway(r, className, {
    hostname: "",
    https,
    plaintextHttp,
    defaultAllowedRoutes: "Selector",
  });
  return {
    role: "platform",
    mode: "reference",
    stack: r.stack,
    crds,
    sharedGateway,
    routeNamespaces: readRouteNamespaces(r, sharedGateway.namespace),
    protectGateway: r.bool("protectGateway", true),
  };
}

/** `routeNamespaces`: the namespaces the ReferenceGrant records. */
function readRouteNamespaces(r: ConfigReader, gatewayNamespace: string): string[] {
  return (
    r.namespaceList("routeNamespaces", (name) =>
      name === gatewayNamespace ? "is the Gateway's own namespace" : undefined,
    ) ?? []
  );
}

/** Where an app stack's Gateway is described: `platformStack`, or explicit settings. */
export function readPlatformSource(r: ConfigReader, project: string | undefined): PlatformSource | undefined {
  const stack = r.optional("platformStack");
  if (stack !== undefined) {
    const parts = stack.split("/");
    if (parts.length !== 3 || parts.some((p) => p === "" || /\s/.test(p))) {
      r.report(
        "platformStack",
        `'${stack}' is not a fully qualified stack name <organization>/<project>/<stack> (with a local backend the organization is 'organization')`,
        setCommand("platformStack", `organization/${project ?? "dot-ai-gateway"}/platform`),
      );
    } else if (parts[2] === r.stack && (project === undefined || parts[1] === project)) {
      r.report(
        "platformStack",
        `'${stack}' names this stack itself; an app stack attaches to the Gateway of another (platform) stack`,
        setCommand("platformStack", `${parts[0]}/${parts[1]}/platform`),
      );
    }
    return { kind: "stack", stack };
  }
  const given = ["gatewayName", "gatewayNamespace"].filter((k) => r.has(k));
  if (given.length < 2) {
    const missing = ["gatewayName", "gatewayNamespace"].filter((k) => !r.has(k));
    r.report(
      given.length === 0 ? "platformStack" : missing[0],
      given.length === 0
        ? "is not set, and neither are gatewayName and gatewayNamespace: an app stack (role app) attaches to a Gateway it does not own, and must be told which"
        : `is not set, but ${given[0]} is: a Gateway that no Pulumi stack owns is named by both gatewayName and gatewayNamespace`,
      given.length === 0
        ? `${setCommand("platformStack", `organization/${project ?? "dot-ai-gateway"}/platform`)}, or for a Gateway no Pulumi stack owns: ${setCommand("gatewayName", "<name>")} and ${setCommand("gatewayNamespace", "<namespace>")}`
        : setCommand(missing[0], missing[0] === "gatewayName" ? "<name>" : "<namespace>"),
    );
    return undefined;
  }
  const https = r.bool("https", true);
  const domain = r.optional("domain");
  if (domain !== undefined) {
    const problem = checkDomain(domain);
    if (problem) r.report("domain", `'${domain}' ${problem}`, setCommand("domain", "example.com"));
  } else if (https) {
    r.warn(
      `${CONFIG_NAMESPACE}:domain is not set: the hostname cannot be checked against the certificate of Gateway ${r.str("gatewayNamespace", "")}/${r.str("gatewayName", "")}; set it to the domain the Gateway's certificate covers (${setCommand("domain", "example.com")}).`,
    );
  }
  return {
    kind: "explicit",
    facts: {
      gatewayName: r.dnsLabel("gatewayName", "", "Gateway name"),
      gatewayNamespace: r.dnsLabel("gatewayNamespace", "", "namespace name"),
      routeNamespaceLabels: {},
      https,
      certificateDomain: https ? domain : undefined,
    },
  };
}

/** What the app stack brings to the check. */
export interface AppSide {
  hostname: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  /** The app stack's consent to being served in clear (`allowPlaintextHttp`). */
  plaintextHttp: boolean;
}

/**
 * Whether the Gateway will admit this app: pure, so that it runs the same on explicit settings
 * (at config time) and on a platform stack's outputs (once they are read, before any resource).
 * `platformStack` names the platform stack in fixes, when there is one.
 */
export function checkAppAgainstPlatform(app: AppSide, facts: PlatformFacts, platformStack?: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const gateway = `Gateway ${facts.gatewayNamespace}/${facts.gatewayName}`;
  const onPlatform = (key: string, value: string) =>
    platformStack
      ? `on the platform: ${setCommand(key, value)} --stack ${platformStack} && pulumi up --stack ${platformStack}`
      : `have the Gateway's owner set its listeners' allowedRoutes to ${value}`;
  if (facts.allowedRoutes === "Same") {
    problems.push({
      key: platformStack ? "platformStack" : "gatewayName",
      problem: `names ${gateway}, whose listeners admit routes only from '${facts.gatewayNamespace}' (allowedRoutes Same), so this app's HTTPRoute in '${app.namespace}' could never attach`,
      fix: onPlatform("allowedRoutes", "Selector"),
    });
  }
  if (app.namespace === facts.gatewayNamespace) {
    problems.push({
      key: "namespace",
      problem: `is '${app.namespace}', the namespace of ${gateway}; the platform and each app own separate namespaces`,
      fix: setCommand("namespace", "dot-ai"),
    });
  }
  for (const [key, value] of Object.entries(facts.routeNamespaceLabels)) {
    const own = app.namespaceLabels[key];
    if (own !== undefined && own !== value) {
      problems.push({
        key: "namespaceLabels",
        problem: `sets the label ${key}=${own} on '${app.namespace}', but the listeners of ${gateway} admit only namespaces labelled ${key}=${value}`,
        fix: `pulumi config rm --path '${CONFIG_NAMESPACE}:namespaceLabels.${key.replace(/\./g, "\\.")}'`,
      });
    }
  }
  if ((!facts.https || facts.plaintextHttp === true) && !app.plaintextHttp) {
    const how = !facts.https
      ? "has no HTTPS listener"
      : "admits app routes on its plain-HTTP listener too (a platform stack of this program from before HTTP redirected, or one with allowPlaintextHttp)";
    problems.push({
      key: "allowPlaintextHttp",
      problem: `is not set, but ${gateway} ${how}: this app's MCP endpoint, its bearer token and every tool call would cross the network in clear`,
      fix: `${platformStack ? `on the platform: ${!facts.https ? setCommand("https", "true") : removeCommand("allowPlaintextHttp")} --stack ${platformStack} && pulumi up --stack ${platformStack}` : "have the Gateway's owner serve HTTPS"}, or, if plain HTTP is really meant here: ${setCommand("allowPlaintextHttp", "true")}`,
    });
  }
  const hostnameValid = checkHostname(app.hostname) === undefined;
  if (
    facts.https &&
    facts.certificateDomain &&
    hostnameValid &&
    !isCoveredByWildcard(app.hostname, facts.certificateDomain)
  ) {
    const domain = facts.certificateDomain;
    problems.push({
      key: "hostname",
      problem: `'${app.hostname}' is not covered by the certificate of ${gateway} ('*.${domain}' and '${domain}'; a wildcard matches exactly one label): HTTPS clients would be served a certificate for another name`,
      fix: setCommand("hostname", `${app.hostname.split(".")[0]}.${domain}`),
    });
  }
  return problems;
}

/**
 * The platform stack's outputs as facts, or the problems with them: a stack that is not a platform
 * stack of this program, not deployed yet, or of another contract version.
 */
export function platformFactsFromOutputs(
  platformStack: string,
  outputs: Partial<Record<PlatformOutputName, unknown>>,
): { facts: PlatformFacts } | { problems: ConfigProblem[] } {
  const key = "platformStack";
  const deployIt = `deploy the platform first (pulumi up --stack ${platformStack}), or ${setCommand(key, "<organization>/<project>/<platform stack>")}`;
  if (outputs.role !== "platform") {
    const what =
      outputs.role === undefined
        ? "has no 'role' output: it is not a platform stack of this program, or has not been deployed"
        : `is a '${String(outputs.role)}' stack, not a platform stack (role platform)`;
    return { problems: [{ key, problem: `'${platformStack}' ${what}`, fix: deployIt }] };
  }
  if (outputs.platformContract !== PLATFORM_CONTRACT) {
    return {
      problems: [
        {
          key,
          problem: `'${platformStack}' exports platform contract ${String(outputs.platformContract)}, this program reads contract ${PLATFORM_CONTRACT}`,
          fix: `run the same version of this program on both stacks (pulumi up --stack ${platformStack})`,
        },
      ],
    };
  }
  const problems: string[] = [];
  const str = (name: PlatformOutputName): string => {
    const value = outputs[name];
    if (typeof value === "string" && value !== "") return value;
    problems.push(`output '${name}' is ${JSON.stringify(value)}, not a name`);
    return "";
  };
  const gatewayName = str("gatewayName");
  const gatewayNamespace = str("gatewayNamespace");
  const allowedRoutes = str("allowedRoutes");
  if (allowedRoutes && !isOneOf(ALLOWED_ROUTES, allowedRoutes)) {
    problems.push(`output 'allowedRoutes' is '${allowedRoutes}', not one of ${ALLOWED_ROUTES.join(", ")}`);
  }
  const labels = isStringMap(outputs.routeNamespaceLabels) ? outputs.routeNamespaceLabels : undefined;
  if (!labels) problems.push("output 'routeNamespaceLabels' is not an object of strings");
  if (typeof outputs.https !== "boolean") problems.push("output 'https' is not a boolean");
  const https = outputs.https === true;
  // A platform stack from before HTTP redirected exports no 'plaintextHttp': its port-80 listener
  // admitted app routes as its 443 one did.
  if (outputs.plaintextHttp !== undefined && typeof outputs.plaintextHttp !== "boolean") {
    problems.push("output 'plaintextHttp' is not a boolean");
  }
  const plaintextHttp = outputs.plaintextHttp !== false;
  const certificateDomain = https ? str("certificateDomain") : undefined;
  if (problems.length > 0 || !labels) {
    return {
      problems: problems.map((p) => ({ key, problem: `'${platformStack}': ${p}`, fix: deployIt })),
    };
  }
  return {
    facts: {
      gatewayName,
      gatewayNamespace,
      allowedRoutes: allowedRoutes as AllowedRoutesFrom,
      routeNamespaceLabels: labels,
      https,
      plaintextHttp,
      certificateDomain,
      gatewayApiVersion: typeof outputs.gatewayApiVersion === "string" ? outputs.gatewayApiVersion : undefined,
    },
  };
}

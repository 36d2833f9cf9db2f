import { chartFullname } from "../../components/chart-contract";
import {
  checkDomain,
  checkHostname,
  isCoveredByWildcard,
  parentDomain,
  parseGatewayDuration,
  parseStringMap,
} from "../validators";
import { ConfigReader, setCommand } from "./reader";
import {
  ALLOWED_ROUTES,
  AllowedRoutesFrom,
  CONFIG_NAMESPACE,
  CreatedGatewayConfig,
  Mode,
  SharedGatewayConfig,
} from "./types";

/** What both Gateway flavours are read against. */
export interface GatewayContext {
  /** "" on a platform stack, which serves many hostnames. */
  hostname: string;
  https: boolean;
  /** Serve the MCP endpoint (every app, on a shared Gateway) on plain HTTP too; always true without HTTPS. */
  plaintextHttp: boolean;
}

/** The app in the same stack as the shared Gateway (role combined). */
interface SharedGatewayContext extends GatewayContext {
  appNamespace?: string;
  /** `All` on a combined stack, `Selector` on a platform stack. */
  defaultAllowedRoutes: AllowedRoutesFrom;
}

interface CreatedGatewayContext extends GatewayContext {
  releaseName: string;
}

/** The GatewayClass, required in both patterns: a Gateway cannot exist without one. */
export function readGatewayClassName(r: ConfigReader, mode: Mode | undefined): string {
  if (!r.has("gatewayClassName")) {
    r.report(
      "gatewayClassName",
      mode === "creation"
        ? "is not set; the chart cannot create a Gateway without a GatewayClass (its rendering fails)"
        : "is not set; a Gateway needs the GatewayClass of the cluster's Gateway controller",
      `${setCommand("gatewayClassName", "<class>")}   # see: kubectl get gatewayclass`,
    );
  }
  return r.dnsSubdomain("gatewayClassName", "", "<class>");
}

/** The reference pattern's shared Gateway, Certificate and route admission. */
export function readSharedGateway(r: ConfigReader, className: string, ctx: SharedGatewayContext): SharedGatewayConfig {
  const namespace = r.dnsLabel("gatewayNamespace", "gateway-system", "namespace name");
  const name = r.dnsLabel("gatewayName", "cluster-gateway", "Gateway name");
  const allowedRoutes = r.oneOf("allowedRoutes", ALLOWED_ROUTES, ctx.defaultAllowedRoutes, "Selector");
  if (allowedRoutes === "Same") {
    r.report(
      "allowedRoutes",
      ctx.appNamespace !== undefined
        ? `is 'Same': the shared Gateway would admit routes only from '${namespace}', so dot-ai's HTTPRoute in '${ctx.appNamespace}' could never attach (a ReferenceGrant does not change that)`
        : `is 'Same': the shared Gateway would admit routes only from '${namespace}', so no app stack's HTTPRoute (each in its own namespace) could ever attach (a ReferenceGrant does not change that)`,
      `${setCommand("allowedRoutes", "Selector")}   # or All`,
    );
  }
  if (ctx.appNamespace !== undefined && ctx.appNamespace === namespace) {
    r.report(
      "namespace",
      `is '${ctx.appNamespace}', the same as the shared Gateway's namespace; the platform and the app own separate namespaces`,
      setCommand("namespace", "dot-ai"),
    );
  }
  return {
    name,
    namespace,
    className,
    allowedRoutes,
    waitForProgrammed: r.bool("waitForGateway", true),
    waitTimeoutSeconds: readWaitTimeout(r),
    plaintextHttp: ctx.plaintextHttp || !ctx.https,
    tls: ctx.https
      ? {
          domain: readDomain(r, ctx.hostname, ctx.appNamespace === undefined),
          clusterIssuer: r.dnsSubdomain("clusterIssuer", "letsencrypt-prod"),
          secretName: r.dnsSubdomain("tlsSecretName", "wildcard-tls"),
          waitForReady: r.bool("waitForCertificate", true),
        }
      : undefined,
  };
}

/** Shared by both waits; the provider's own default is 10 minutes too. */
export const DEFAULT_WAIT_TIMEOUT = "10m";
const DEFAULT_WAIT_TIMEOUT_SECONDS = 600;

function readWaitTimeout(r: ConfigReader): number {
  const value = r.str("waitTimeout", DEFAULT_WAIT_TIMEOUT);
  const ms = parseGatewayDuration(value);
  if (ms === undefined || ms < 1000) {
    r.report(
      "waitTimeout",
      `'${value}' is not a Gateway API duration of at least 1s (1-4 parts of up to 5 digits with h, m, s or ms, e.g. 10m or 90s)`,
      setCommand("waitTimeout", DEFAULT_WAIT_TIMEOUT),
    );
    return DEFAULT_WAIT_TIMEOUT_SECONDS;
  }
  return Math.ceil(ms / 1000);
}

/** The wildcard certificate's domain: given, or the hostname's parent; it must cover the hostname. */
function readDomain(r: ConfigReader, hostname: string, platformOnly: boolean): string {
  const hostnameValid = hostname !== "" && checkHostname(hostname) === undefined;
  const given = r.optional("domain");
  const domain = given ?? (hostname ? parentDomain(hostname) : "");
  if (!domain) {
    r.report(
      "domain",
      platformOnly
        ? "is needed for HTTPS on a platform stack: the wildcard certificate's domain, under which every app stack's hostname must be"
        : "is needed for HTTPS (the wildcard certificate) and cannot be derived because hostname is not set either",
      setCommand("domain", "example.com"),
    );
    return domain;
  }
  const problem = given !== undefined ? checkDomain(domain) : undefined;
  if (problem) r.report("domain", `'${domain}' ${problem}`, setCommand("domain", "example.com"));
  else if (hostnameValid && !isCoveredByWildcard(hostname, domain)) {
    r.report(
      "domain",
      `'${domain}' does not cover hostname '${hostname}': the certificate is for '*.${domain}' and '${domain}', and a wildcard matches exactly one label`,
      setCommand("domain", parentDomain(hostname)),
    );
  }
  return domain;
}

/** Settings that only the shared Gateway has; set in the creation pattern they would do nothing. */
const SHARED_GATEWAY_ONLY = ["gatewayName", "gatewayNamespace", "allowedRoutes", "domain"];

/** The creation pattern's chart-created Gateway. */
export function readCreatedGateway(
  r: ConfigReader,
  className: string,
  ctx: CreatedGatewayContext,
): CreatedGatewayConfig {
  r.refuse(
    SHARED_GATEWAY_ONLY,
    "applies to the shared Gateway of the reference pattern; in the creation pattern the chart creates its own Gateway (allowedRoutes Same, named <release>-http)",
  );
  const annotations: Record<string, string> = {
    // external-dns publishes the Gateway's address under the public host name.
    "external-dns.alpha.kubernetes.io/hostname": ctx.hostname,
    ...readAnnotations(r),
  };
  const wait = { waitForProgrammed: r.bool("waitForGateway", true), waitTimeoutSeconds: readWaitTimeout(r) };
  if (!ctx.https) return { className, annotations, ...wait, plaintextHttp: true };
  // The program owns the Certificate for the hostname; cert-manager's Gateway shim, which these
  // annotations drive, would issue a second one into the same Secret.
  for (const key of Object.keys(annotations).filter((k) => CERT_MANAGER_SHIM_ANNOTATIONS.includes(k))) {
    r.report(
      "gatewayAnnotations",
      `sets '${key}', which asks cert-manager's Gateway shim for a certificate of its own; this program creates the Certificate for the HTTPS listener itself (its issuer is clusterIssuer), and two would write one Secret`,
      `pulumi config rm --path '${CONFIG_NAMESPACE}:gatewayAnnotations.${key.replace(/\./g, "\\.")}', and ${setCommand("clusterIssuer", "<issuer>")}`,
    );
  }
  return {
    className,
    annotations,
    ...wait,
    plaintextHttp: ctx.plaintextHttp,
    tls: {
      secretName: r.dnsSubdomain("tlsSecretName", `${chartFullname(ctx.releaseName)}-tls`),
      clusterIssuer: r.dnsSubdomain("clusterIssuer", "letsencrypt-prod"),
      waitForReady: r.bool("waitForCertificate", true),
    },
  };
}

/** Annotations on a Gateway that make cert-manager's Gateway shim issue a certificate for its listeners. */
const CERT_MANAGER_SHIM_ANNOTATIONS = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"];

function readAnnotations(r: ConfigReader): Record<string, string> {
  const text = r.optional("gatewayAnnotations");
  if (text === undefined) return {};
  const parsed = parseStringMap(text);
  if (!parsed) {
    r.report(
      "gatewayAnnotations",
      "must be a JSON object of string values",
      `pulumi config set --path '${CONFIG_NAMESPACE}:gatewayAnnotations.example\\.com/key' value`,
    );
  }
  return parsed ?? {};
}

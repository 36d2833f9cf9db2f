/**
 * The prod Certificate comes from a real issuer (mandatory on the stacks in `prodStacks`, default
 * `prod`).
 *
 * Why: a self-signed certificate, or one from Let's Encrypt's staging server, is not trusted by
 * MCP clients; they fail the TLS handshake, or get configured to skip verification, which removes
 * the protection HTTPS gives the bearer token. Easy to leave behind after testing, since
 * cert-manager reports such a Certificate Ready all the same.
 *
 * A policy sees only the stack: the Certificate's `spec.issuerRef`, and the Issuers and
 * ClusterIssuers the same stack creates. Refused on a prod stack:
 * - per resource: an issuerRef name that says so (/self-?signed|staging/i);
 * - across the stack: an issuerRef to an Issuer/ClusterIssuer of the stack with `spec.selfSigned`
 *   or an `spec.acme.server` containing "staging".
 * `allowedIssuers` (policy config) lists issuer names accepted regardless (e.g. an internal CA).
 * An issuer made outside the stack (like the sandbox's local-CA `letsencrypt-prod`) is judged by
 * its name only.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import {
  PROD_STACKS_SCHEMA,
  Res,
  groupKind,
  isCertificate,
  isIssuer,
  isProdStack,
  objectName,
  prodStacksOf,
  resourceValidation,
  stackOf,
  stackValidation,
} from "./lib/resources";
import { UNKNOWN, at, shown, stringList } from "./lib/values";

export const NAME = "prod-certificate-real-issuer";

const TEST_ISSUER_NAME = /self-?signed|staging/i;
const CERT_MANAGER_GROUP = "cert-manager.io";

interface IssuerRef {
  kind: string;
  name: string;
  group: string;
}

function issuerRefOf(cert: Res): IssuerRef | undefined {
  const ref = at(cert.props, "spec", "issuerRef");
  const name = at(ref, "name");
  const kind = at(ref, "kind") ?? "Issuer";
  const group = at(ref, "group") ?? CERT_MANAGER_GROUP;
  if (typeof name !== "string" || typeof kind !== "string" || typeof group !== "string") return undefined;
  return { name, kind, group: group === "" ? CERT_MANAGER_GROUP : group };
}

function certName(cert: Res): string {
  const { name, namespace } = objectName(cert.props);
  return `${shown(namespace)}/${typeof name === "string" ? name : cert.name}`;
}

/** Why the issuer is not a real one, or undefined. */
function issuerProblem(issuer: Res): string | undefined {
  const spec = at(issuer.props, "spec");
  const selfSigned = at(spec, "selfSigned");
  if (selfSigned !== undefined && selfSigned !== null && selfSigned !== UNKNOWN)
    return "is self-signed (spec.selfSigned)";
  const server = at(spec, "acme", "server");
  if (typeof server === "string" && /staging/i.test(server)) return `uses the ACME staging server ${server}`;
  return undefined;
}

function allowedIssuersOf(config: Record<string, unknown>): string[] {
  return stringList(config.allowedIssuers, []);
}

const FIX =
  "Point the Certificate at an issuer browsers and MCP clients trust (e.g. a Let's Encrypt production ClusterIssuer), " +
  `or list the issuer in allowedIssuers for ${NAME} in the policy pack config.`;

export const policy: ResourceValidationPolicy & StackValidationPolicy = {
  name: NAME,
  description:
    "On prod stacks, cert-manager Certificates come from a trusted issuer, not a self-signed or staging one.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      prodStacks: PROD_STACKS_SCHEMA,
      allowedIssuers: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Issuer or ClusterIssuer names accepted on prod stacks whatever their name or kind",
      },
    },
  },
  validateResource: resourceValidation(NAME, (res, config, report) => {
    if (!isCertificate(res.type) || !isProdStack(res.urn, prodStacksOf(config))) return;
    const ref = issuerRefOf(res);
    if (!ref || allowedIssuersOf(config).includes(ref.name) || !TEST_ISSUER_NAME.test(ref.name)) return;
    report(
      `Certificate ${certName(res)} on prod stack '${stackOf(res.urn)?.stack}' is issued by ${ref.kind} '${ref.name}', ` +
        `whose name says it is self-signed or Let's Encrypt staging: clients will not trust it. ${FIX}`,
    );
  }),
  validateStack: stackValidation(NAME, (resources, config, report) => {
    const prodStacks = prodStacksOf(config);
    const allowed = allowedIssuersOf(config);
    const issuers = new Map<string, Res>();
    for (const r of resources) {
      if (!isIssuer(r.type)) continue;
      const { name, namespace } = objectName(r.props);
      if (typeof name !== "string") continue;
      const kind = groupKind(r.type)?.kind;
      issuers.set(kind === "ClusterIssuer" ? `ClusterIssuer/${name}` : `Issuer/${shown(namespace)}/${name}`, r);
    }
    for (const cert of resources) {
      if (!isCertificate(cert.type) || !isProdStack(cert.urn, prodStacks)) continue;
      const ref = issuerRefOf(cert);
      if (!ref || ref.group !== CERT_MANAGER_GROUP || allowed.includes(ref.name)) continue;
      const { namespace } = objectName(cert.props);
      const issuer =
        ref.kind === "ClusterIssuer"
          ? issuers.get(`ClusterIssuer/${ref.name}`)
          : ref.kind === "Issuer" && typeof namespace === "string"
            ? issuers.get(`Issuer/${namespace}/${ref.name}`)
            : undefined;
      const problem = issuer ? issuerProblem(issuer) : undefined;
      if (!problem) continue;
      report(
        `Certificate ${certName(cert)} on prod stack '${stackOf(cert.urn)?.stack}' is issued by ${ref.kind} ` +
          `'${ref.name}' of this stack, which ${problem}: clients will not trust it. ${FIX}`,
        cert.urn,
      );
    }
  }),
};

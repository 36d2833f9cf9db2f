import type { Expectations } from "../expectations";
import { gatewayOwnerFix } from "../fixes";
import { Gateway, condition, conditionState, describeCondition } from "../model";
import { CheckResult, fail, pass, skip } from "../result";
import { FORBIDDEN, Snapshot } from "../snapshot";
import { listenerCertificateProblem } from "./gateway";

const ID = "tls";
const TITLE = "Certificate and TLS Secret";
const DAY_MS = 86_400_000;
/** cert-manager renews well before this (a third of the lifetime by default): fewer days left means renewal fails. */
export const EXPIRY_WARNING_DAYS = 7;

/**
 * The Secret the Gateway's HTTPS listener serves: from the live Gateway when it exists (it is what
 * the controller uses), else from the stack's configuration.
 */
export function tlsSecretRef(x: Expectations, gw: Gateway | null): { name: string; namespace: string } | undefined {
  if (!x.https) return undefined;
  for (const listener of gw?.spec.listeners ?? []) {
    const ref = (listener.tls?.certificateRefs ?? []).find((r) => (r.kind ?? "Secret") === "Secret" && !r.group);
    if (ref) return { name: ref.name, namespace: ref.namespace ?? gw?.metadata.namespace ?? x.gateway.namespace };
  }
  return x.tls?.secretName ? { name: x.tls.secretName, namespace: x.tls.namespace } : undefined;
}

export function checkTls(x: Expectations, s: Snapshot): CheckResult {
  if (!x.https) return skip(ID, TITLE, `the stack serves plain HTTP (${x.url ?? "no HTTPS listener"})`);
  const t = s.tls;
  if (!t) return skip(ID, TITLE, "no TLS Secret is known: the Gateway has no HTTPS listener and the stack names none");
  const secretWhere = `${t.namespace}/${t.secretName}`;
  const problems: string[] = [];
  const causes: string[] = [];
  const fixes: string[] = [];
  const details: string[] = [];

  const secret = t.secret;
  if (secret === null) problems.push(`TLS Secret ${secretWhere} does not exist`);
  else if (secret === FORBIDDEN)
    details.push(`Secret ${secretWhere} not read: the credentials in use may not get Secrets there`);
  else {
    const missing = ["tls.crt", "tls.key"].filter((k) => !secret.keys.includes(k));
    if (missing.length > 0) problems.push(`TLS Secret ${secretWhere} lacks ${missing.join(", ")}`);
  }

  const cert = t.certificate;
  const describeCert = cert ? `kubectl describe certificate ${cert.metadata.name} -n ${t.namespace}` : undefined;
  if (!t.certManager) {
    if (problems.length > 0) {
      causes.push("cert-manager is not installed (no Certificate kind), so nothing issues the Secret");
      fixes.push(
        x.gateway.owner === "platform"
          ? gatewayOwnerFix(x, "provide the TLS Secret")
          : "install cert-manager and a ClusterIssuer, or create the Secret yourself: kubectl create secret tls ...",
      );
    } else details.push("cert-manager is not installed: the Secret is managed outside this stack");
  } else if (!cert) {
    if (problems.length > 0) {
      causes.push(`no cert-manager Certificate writes Secret ${t.secretName}`);
      fixes.push(gatewayOwnerFix(x, "re-create the Certificate"));
    } else details.push(`no Certificate writes ${t.secretName}: it is managed outside cert-manager`);
  } else {
    const ready = conditionState(cert.status?.conditions, "Ready", cert.metadata.generation);
    const c = condition(cert.status?.conditions, "Ready");
    if (ready !== "true") {
      problems.push(`Certificate ${t.namespace}/${cert.metadata.name} not Ready: ${describeCondition(c)}`);
      const issuerKind = cert.spec.issuerRef.kind ?? "Issuer";
      const issuerName = cert.spec.issuerRef.name;
      const getIssuer = `kubectl get ${issuerKind.toLowerCase()} ${issuerName}${issuerKind === "Issuer" ? ` -n ${t.namespace}` : ""}`;
      if (t.issuer === null) {
        causes.push(
          `cert-manager cannot (re-)issue it: its ${issuerKind} ${issuerName} does not exist${t.secret === null ? ", and the Secret was deleted" : ""}`,
        );
        fixes.push(
          `create the ${issuerKind} ${issuerName} (${getIssuer}), or point the stack at one that exists: pulumi config set dot-ai-gateway:clusterIssuer <name>`,
        );
      } else if (t.issuer && conditionState(t.issuer.status?.conditions, "Ready") !== "true") {
        causes.push(
          `its ${issuerKind} ${issuerName} is not Ready: ${describeCondition(condition(t.issuer.status?.conditions, "Ready"))}`,
        );
        fixes.push(getIssuer);
      } else if (t.secret === null) {
        causes.push("the Secret was deleted; cert-manager is re-issuing it (rerun doctor in a minute)");
      } else {
        causes.push("cert-manager has not issued it yet or issuance failed");
      }
      fixes.push(describeCert ?? "", `kubectl get certificaterequest,order,challenge -n ${t.namespace}`);
    }
    if (cert.status?.notAfter) {
      const days = Math.floor((Date.parse(cert.status.notAfter) - s.readAt) / DAY_MS);
      details.push(`certificate expires ${cert.status.notAfter} (${days} days)`);
      if (days < 0) problems.push(`the certificate expired ${-days} days ago`);
      else if (days < EXPIRY_WARNING_DAYS) problems.push(`the certificate expires in ${days} days`);
      if (days < EXPIRY_WARNING_DAYS) {
        causes.push(
          `cert-manager has not renewed it${cert.status.renewalTime ? ` (renewal was due ${cert.status.renewalTime})` : ""}`,
        );
        fixes.push(describeCert ?? "");
      }
    }
  }

  // Listeners that cannot use the certificate: the Gateway check leaves these to this one.
  for (const listener of s.gateway?.spec.listeners ?? []) {
    const status = (s.gateway?.status?.listeners ?? []).find((l) => l.name === listener.name);
    const bad = listenerCertificateProblem(listener, status);
    if (!bad) continue;
    problems.push(`listener ${listener.name} ResolvedRefs ${describeCondition(bad)}`);
    if (bad.reason === "RefNotPermitted") {
      causes.push(
        `the listener refers to a Secret in another namespace without a ReferenceGrant there permitting Gateways from ${s.gateway?.metadata.namespace}`,
      );
      fixes.push(gatewayOwnerFix(x, "add the ReferenceGrant for the certificate Secret"));
    } else if (t.secret !== null && causes.length === 0) {
      causes.push("the controller cannot use the Secret (not a valid certificate and key, or not yet seen)");
      fixes.push(`kubectl get secret ${t.secretName} -n ${t.namespace} -o yaml   # tls.crt and tls.key`);
    }
  }

  if (problems.length > 0) {
    return fail(
      ID,
      TITLE,
      problems.join("; "),
      causes.join("; ") || "the HTTPS listener has no usable certificate",
      [...new Set(fixes.filter((f) => f !== ""))],
      details,
    );
  }
  return pass(
    ID,
    TITLE,
    cert
      ? `Certificate ${t.namespace}/${cert.metadata.name} Ready${secret === FORBIDDEN ? "" : `, Secret ${t.secretName} present`}`
      : secret === FORBIDDEN
        ? `Secret ${secretWhere} not readable with these credentials`
        : `Secret ${secretWhere} present`,
    details,
  );
}

import { EXTERNAL_DNS_ANNOTATION, Expectations } from "../expectations";
import { CheckResult, fail, pass, skip } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "external-dns";
const TITLE = "external-dns hostname annotation";

export function checkExternalDns(x: Expectations, s: Snapshot): CheckResult {
  const want = x.app?.externalDnsHostname;
  if (want === undefined) return skip(ID, TITLE, "only the creation pattern annotates its own Gateway");
  if (!s.gateway)
    return skip(ID, TITLE, `the Gateway ${x.gateway.namespace}/${x.gateway.name} does not exist (see gateway)`);
  const have = s.gateway.metadata.annotations?.[EXTERNAL_DNS_ANNOTATION];
  if (have === want) return pass(ID, TITLE, `${EXTERNAL_DNS_ANNOTATION}: ${have}`);
  return fail(
    ID,
    TITLE,
    have === undefined
      ? `the Gateway has no ${EXTERNAL_DNS_ANNOTATION} annotation`
      : `the annotation says ${have}, not ${want}`,
    "external-dns publishes the Gateway's address under the annotated name; without the right one, the hostname does not resolve to this Gateway",
    [
      `helm upgrade ${x.app?.releaseName} <the stack's chart> -n ${x.app?.namespace} --reuse-values   # the chart sets the annotation from gateway.annotations`,
    ],
  );
}

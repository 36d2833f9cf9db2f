import { GATEWAY_API_FLOOR, GATEWAY_API_GROUP, bundleAtLeast } from "../../components/gateway-api";
import type { Expectations } from "../expectations";
import { refreshFix } from "../fixes";
import { CheckResult, fail, pass } from "../result";
import type { Snapshot } from "../snapshot";

const ID = "crds";
const TITLE = "Gateway API CRDs";
/** The kinds this program and the chart use. */
export const REQUIRED_CRDS = ["gatewayclasses", "gateways", "httproutes", "referencegrants"].map(
  (plural) => `${plural}.${GATEWAY_API_GROUP}`,
);
const BUNDLE_ANNOTATION = `${GATEWAY_API_GROUP}/bundle-version`;
const CHANNEL_ANNOTATION = `${GATEWAY_API_GROUP}/channel`;

export function checkCrds(x: Expectations, s: Snapshot): CheckResult {
  const present = new Map(s.crds.map((crd) => [crd.metadata.name, crd]));
  const missing = REQUIRED_CRDS.filter((name) => !present.has(name));
  const installFix =
    x.role === "app"
      ? "the platform team must install the Gateway API standard bundle (kubectl get crd | grep gateway.networking.k8s.io)"
      : `${refreshFix(x)}; or, if dot-ai-gateway:installCrds is false, install the standard bundle: kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/${x.gatewayApiVersion ?? "v1.6.3"}/standard-install.yaml`;
  if (missing.length > 0) {
    return fail(
      ID,
      TITLE,
      `missing: ${missing.join(", ")}`,
      "without these CRDs the API server has no Gateway or HTTPRoute kind: the chart's route cannot exist and no controller can program anything",
      [installFix],
    );
  }
  const gatewaysCrd = present.get(`gateways.${GATEWAY_API_GROUP}`);
  const version = gatewaysCrd?.metadata.annotations?.[BUNDLE_ANNOTATION];
  const channel = gatewaysCrd?.metadata.annotations?.[CHANNEL_ANNOTATION];
  const bundle = version ? `bundle ${version}${channel ? ` (${channel})` : ""}` : "bundle version not annotated";
  if (version && !bundleAtLeast(version, GATEWAY_API_FLOOR)) {
    return fail(
      ID,
      TITLE,
      `${bundle}, older than ${GATEWAY_API_FLOOR}`,
      `Gateway and HTTPRoute v1, which the program and the chart create, are served only from bundle ${GATEWAY_API_FLOOR} on`,
      [installFix],
    );
  }
  const details =
    x.gatewayApiVersion && version && version !== x.gatewayApiVersion
      ? [`the stack is configured for ${x.gatewayApiVersion} (dot-ai-gateway:gatewayApiVersion)`]
      : undefined;
  return pass(ID, TITLE, `${REQUIRED_CRDS.length} CRDs present, ${bundle}`, details);
}

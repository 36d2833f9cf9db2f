import * as fs from "fs";
import * as path from "path";

import { GATEWAY_API_FLOOR, NEWEST_VERIFIED_GATEWAY_API, bundleAtLeast } from "../../components/gateway-api";
import { ConfigReader, removeCommand, setCommand } from "./reader";
import { CONFIG_NAMESPACE, CrdConfig, DEFAULT_GATEWAY_API_VERSION, gatewayApiCrdsUrl } from "./types";

/** Which Gateway API CRDs to install, from where, and whether they outlive the stack. */
export function readCrds(r: ConfigReader): CrdConfig {
  const version = r.str("gatewayApiVersion", DEFAULT_GATEWAY_API_VERSION);
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(version)) {
    r.report(
      "gatewayApiVersion",
      `'${version}' is not a Gateway API release tag like ${DEFAULT_GATEWAY_API_VERSION}`,
      setCommand("gatewayApiVersion", DEFAULT_GATEWAY_API_VERSION),
    );
  } else if (!bundleAtLeast(version, GATEWAY_API_FLOOR)) {
    // The same whether the program installs the bundle or the cluster ships it.
    r.report(
      "gatewayApiVersion",
      `is ${version}, whose Gateway API does not serve gateway.networking.k8s.io/v1 Gateways and HTTPRoutes (served from ${GATEWAY_API_FLOOR} on), which this program and the chart create`,
      `${setCommand("gatewayApiVersion", DEFAULT_GATEWAY_API_VERSION)}   # a cluster that ships its own CRDs needs them upgraded to ${GATEWAY_API_FLOOR} or later`,
    );
  } else if (bundleAtLeast(version, NEWEST_VERIFIED_GATEWAY_API) && version !== NEWEST_VERIFIED_GATEWAY_API) {
    r.warn(
      `${CONFIG_NAMESPACE}:gatewayApiVersion ${version} is newer than the newest Gateway API verified with this program (${NEWEST_VERIFIED_GATEWAY_API}).`,
    );
  }
  const install = r.bool("installCrds", true);
  const file = r.optional("gatewayApiCrdsFile");
  let source: CrdConfig["source"] = { kind: "url", url: gatewayApiCrdsUrl(version) };
  if (file !== undefined) {
    source = { kind: "file", path: path.resolve(r.input.baseDir, file) };
    if (install && !fs.existsSync(source.path)) {
      r.report(
        "gatewayApiCrdsFile",
        `'${source.path}' does not exist`,
        `${setCommand("gatewayApiCrdsFile", "<path to standard-install.yaml>")}, or ${removeCommand("gatewayApiCrdsFile")} to use ${gatewayApiCrdsUrl(version)}`,
      );
    }
  }
  const retainOnDelete = r.bool("retainCrds", true);
  if (!retainOnDelete) {
    r.warn(
      `${CONFIG_NAMESPACE}:retainCrds is false: destroying this stack deletes the Gateway API CRDs and with them every Gateway and route of the whole cluster.`,
    );
  }
  return { install, version, source, retainOnDelete };
}

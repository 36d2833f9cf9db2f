import { ConfigReader, removeCommand, setCommand } from "./reader";
import { CONFIG_NAMESPACE } from "./types";

/** How the MCP endpoint crosses the network: HTTPS, and plain HTTP only where the user said so. */
export interface Transport {
  https: boolean;
  /** The endpoint is served on plain HTTP (port 80) too, or only there when `https` is false. */
  plaintextHttp: boolean;
}

/** What crosses the network in clear when the endpoint is served on plain HTTP, for both the refusal and the warning. */
const IN_CLEAR =
  "the bearer token (in every request's Authorization header), every tool call and every answer, which can hold cluster data and manifests, cross the network unencrypted: anyone on the path can read the token and then drive an agent that can write to the cluster";

/**
 * `https` (default true) and `allowPlaintextHttp` (default false). Plain HTTP is never a default:
 * `https false` alone is refused, and the opt-in is repeated as a warning on every preview and up.
 * `served` says what the opt-in exposes, e.g. "The MCP endpoint http://dot-ai.example.com is".
 */
export function readTransport(r: ConfigReader, served: string): Transport {
  const https = r.bool("https", true);
  const plaintextHttp = r.bool("allowPlaintextHttp", false);
  if (!https && !plaintextHttp) {
    r.report(
      "https",
      `is false, so the MCP endpoint would be served on plain HTTP only: ${IN_CLEAR}`,
      `${removeCommand("https")} (HTTPS is the default), or, if plain HTTP is really meant: ${setCommand("allowPlaintextHttp", "true")}`,
    );
  }
  if (plaintextHttp) {
    r.warn(
      `${CONFIG_NAMESPACE}:allowPlaintextHttp is true. ${served} served on plain HTTP (port 80)${https ? " as well as HTTPS" : ""}: ${IN_CLEAR}. To serve HTTPS only, with port 80 redirecting to it: ${removeCommand("allowPlaintextHttp")}${https ? "" : ` and ${removeCommand("https")}`}`,
    );
  }
  return { https, plaintextHttp };
}

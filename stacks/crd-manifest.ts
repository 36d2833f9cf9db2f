import * as fs from "fs/promises";

import { CONFIG_NAMESPACE, CrdConfig } from "./config";
import { userError } from "./errors";

const FETCH_TIMEOUT_MS = 60_000;

/** The Gateway API CRD manifest from a local file or the release URL, with an actionable error. */
export async function loadCrdManifest(crds: CrdConfig): Promise<string> {
  if (crds.source.kind === "file") {
    try {
      return await fs.readFile(crds.source.path, "utf8");
    } catch (err) {
      throw userError(
        `${CONFIG_NAMESPACE}:gatewayApiCrdsFile: cannot read ${crds.source.path}: ${(err as Error).message}`,
      );
    }
  }
  const url = crds.source.url;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return await response.text();
  } catch (err) {
    throw userError(
      `Cannot download the Gateway API ${crds.version} CRDs from ${url}: ${(err as Error).message}.\n` +
        `Fix: download standard-install.yaml where you can and run: pulumi config set ${CONFIG_NAMESPACE}:gatewayApiCrdsFile <path>\n` +
        `  or, if the cluster already has the CRDs: pulumi config set ${CONFIG_NAMESPACE}:installCrds false`,
    );
  }
}

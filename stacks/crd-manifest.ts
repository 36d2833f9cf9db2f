import * as fs from "fs/promises";

import { ManifestObject, gatewayApiKind, parseManifest } from "../components/crds";
import { GATEWAY_API_GROUP } from "../components/gateway-api";
import { CONFIG_NAMESPACE, CrdConfig } from "./config";
import { ApiNeed, checkClusterGatewayApi, readGatewayApiSafely } from "./crd-precheck";
import { userError } from "./errors";

const FETCH_TIMEOUT_MS = 60_000;
const BUNDLE_VERSION_ANNOTATION = "gateway.networking.k8s.io/bundle-version";

/**
 * The Gateway API bundle to install, or undefined when the cluster's own Gateway API CRDs are to be
 * left as they are (newer, or managed by someone else: see stacks/crd-precheck.ts). The cluster is
 * read while the bundle loads; both happen before anything is registered.
 */
export async function loadGatewayApiBundle(crds: CrdConfig, needs: ApiNeed[]): Promise<ManifestObject[] | undefined> {
  const [objects, cluster] = await Promise.all([loadCheckedBundle(crds, needs), readGatewayApiSafely(needs)]);
  return checkClusterGatewayApi(crds, needs, objects, cluster);
}

/**
 * The bundle loaded, parsed and checked to serve every kind the program will create at the
 * version it will use, so that a file of another release than `gatewayApiVersion` fails here,
 * naming both settings, not halfway through `pulumi up`.
 */
export async function loadCheckedBundle(crds: CrdConfig, needs: ApiNeed[]): Promise<ManifestObject[]> {
  const text = await loadCrdManifest(crds);
  const where =
    crds.source.kind === "file" ? `${CONFIG_NAMESPACE}:gatewayApiCrdsFile ${crds.source.path}` : crds.source.url;
  let objects: ManifestObject[];
  try {
    objects = parseManifest(text);
  } catch (err) {
    throw userError(`The Gateway API manifest (${where}) cannot be read: ${(err as Error).message}`);
  }
  const crdsByKind = new Map<string, ManifestObject>();
  for (const o of objects) {
    const kind = gatewayApiKind(o);
    if (kind) crdsByKind.set(kind, o);
  }
  if (crdsByKind.size === 0) {
    throw userError(`The Gateway API manifest (${where}) contains no ${GATEWAY_API_GROUP} CustomResourceDefinition.`);
  }
  const missing = needs.filter((n) => !serves(crdsByKind.get(n.kind), n.version));
  if (missing.length > 0) {
    const found = [
      ...new Set(
        [...crdsByKind.values()]
          .map((c) => (c.metadata.annotations as Record<string, string> | undefined)?.[BUNDLE_VERSION_ANNOTATION])
          .filter((v): v is string => v !== undefined),
      ),
    ];
    const bundle = found.length > 0 ? `bundle ${found.join(", ")}` : "a bundle";
    throw userError(
      `${CONFIG_NAMESPACE}:gatewayApiVersion is ${crds.version}, but the Gateway API manifest (${where}) is ${bundle} ` +
        `that does not serve ${missing.map((n) => `${n.kind} ${GATEWAY_API_GROUP}/${n.version}`).join(", ")}, ` +
        `which this program creates for ${crds.version}.\n` +
        `Fix: pulumi config set ${CONFIG_NAMESPACE}:gatewayApiVersion <the manifest's release>` +
        (found.length > 0 ? ` (${found[0]})` : "") +
        `, or point ${CONFIG_NAMESPACE}:gatewayApiCrdsFile at the ${crds.version} standard-install.yaml`,
    );
  }
  return objects;
}

function serves(crd: ManifestObject | undefined, version: string): boolean {
  const versions = (crd?.spec as { versions?: { name?: string; served?: boolean }[] } | undefined)?.versions ?? [];
  return versions.some((v) => v.name === version && v.served === true);
}

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

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

import { ManifestObject, gatewayApiKind, parseManifest, splitBundle } from "../components/crds";
import { GATEWAY_API_GROUP } from "../components/gateway-api";
import {
  BundleChart,
  RELEASE_RECORD_LIMIT,
  bundleChart,
  bundleChartStore,
  recordFits,
  releaseRecordBytes,
  writeBundleChart,
  writtenBundleChart,
} from "./bundle-chart";
import { CONFIG_NAMESPACE, CrdConfig } from "./config";
import {
  ApiNeed,
  BUNDLE_VERSION_ANNOTATION,
  BundlePlan,
  checkClusterGatewayApi,
  readGatewayApiSafely,
  wantedBundle,
} from "../cluster/crd-precheck";
import { userError } from "./errors";
import { measured } from "./timing";

const FETCH_TIMEOUT_MS = 60_000;

/** The bundle as the stack installs it: see GatewayApiCrdsArgs. */
export interface BundleInstall extends Omit<BundlePlan, "version"> {
  objects: ManifestObject[];
  /** The generated chart of its CRDs (stacks/bundle-chart.ts). */
  chartPath: string;
}

/**
 * The Gateway API bundle to install, or undefined when the cluster's own Gateway API CRDs are to be
 * left as they are (newer, or managed by someone else: see cluster/crd-precheck.ts). The cluster is
 * read while the bundle loads; both happen before anything is registered, and so does the check
 * that Helm can store the bundle's release.
 */
export async function loadGatewayApiBundle(crds: CrdConfig, needs: ApiNeed[]): Promise<BundleInstall | undefined> {
  const [{ objects, text }, cluster] = await Promise.all([
    measured("Gateway API bundle: load and parse", () => loadCheckedBundle(crds, needs)),
    measured("Gateway API bundle: read the cluster's CRDs", () => readGatewayApiSafely(needs)),
  ]);
  const plan = await checkClusterGatewayApi(wantedBundle(crds, needs, objects), cluster);
  if (plan === undefined) return undefined;
  return measured("Gateway API bundle: chart, size, write", async () => {
    const chart = bundleChart(splitBundle(objects).chartObjects, {
      bundleVersion: plan.version,
      customFile: crds.source.kind === "file" ? text : undefined,
      keep: crds.retainOnDelete,
    });
    return { objects, ...checkedChart(crds, chart), adopt: plan.adopt, importRelease: plan.importRelease };
  });
}

/** The chart written where the Release reads it, once Helm is known to be able to store it. */
function checkedChart(crds: CrdConfig, chart: BundleChart): { chartPath: string } {
  const written = writtenBundleChart(chart);
  if (written !== undefined) return { chartPath: written };
  const bytes = releaseRecordBytes(chart);
  if (!recordFits(bytes)) {
    throw userError(
      `The Gateway API manifest (${describeSource(crds)}) is too large for one Helm release: each revision would be a Secret of about ${kib(bytes)}, over the API server's limit of ${kib(RELEASE_RECORD_LIMIT)} for a Secret. Nothing was deployed.\n` +
        `  Fix: install the bundle yourself (kubectl apply --server-side -f <manifest>) and run: pulumi config set ${CONFIG_NAMESPACE}:installCrds false`,
    );
  }
  return { chartPath: writeBundleChart(chart) };
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

function describeSource(crds: CrdConfig): string {
  return crds.source.kind === "file" ? `${CONFIG_NAMESPACE}:gatewayApiCrdsFile ${crds.source.path}` : crds.source.url;
}

/**
 * The bundle loaded, parsed and checked to serve every kind the program will create at the
 * version it will use, so that a file of another release than `gatewayApiVersion` fails here,
 * naming both settings, not halfway through `pulumi up`.
 */
export async function loadCheckedBundle(
  crds: CrdConfig,
  needs: ApiNeed[],
): Promise<{ objects: ManifestObject[]; text: string }> {
  const text = await loadCrdManifest(crds);
  const where = describeSource(crds);
  let objects: ManifestObject[];
  try {
    objects = parseManifestOnce(text);
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
  return { objects, text };
}

/**
 * The manifest's objects, parsed once per content: the YAML of a bundle (about 1 MB) takes 0.1 to
 * 0.6 s to parse on every preview, its JSON a few milliseconds, so a run keeps the parsed objects
 * beside the charts (stacks/bundle-chart.ts), named after the text's digest.
 */
function parseManifestOnce(text: string): ManifestObject[] {
  const file = path.join(bundleChartStore.root, `manifest-${createHash("sha256").update(text).digest("hex")}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as ManifestObject[];
  } catch {
    // Not parsed before (or unreadable): parse, and keep it for the next run if the folder allows.
  }
  const objects = parseManifest(text);
  try {
    fs.mkdirSync(bundleChartStore.root, { recursive: true });
    const staging = `${file}.${process.pid}`;
    fs.writeFileSync(staging, JSON.stringify(objects));
    fs.renameSync(staging, file);
  } catch {
    // A read-only folder only costs the next run the parse.
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
      return await fs.promises.readFile(crds.source.path, "utf8");
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

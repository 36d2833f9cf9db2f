/**
 * The Gateway API CRDs as a Helm chart of their own, which the stack installs as one
 * `helm.v3.Release` (components/crds.ts).
 *
 * Why a chart: as ten Pulumi resources the CRDs cost more than the whole manual path (every CRD
 * the Kubernetes provider creates empties its cache of the cluster's OpenAPI document, which the
 * next Checks read again, one resource at a time; docs/performance.md). A Release builds its own
 * clients and leaves that cache alone, and Helm applies the CRDs as fast as kubectl does. Current
 * Gateway controllers ship the same CRDs the same way: a CRD-only chart beside the controller's.
 *
 * The objects go in `templates/`, not `crds/`: Helm never upgrades what is in `crds/`. With
 * `retainCrds` (the default) each carries `helm.sh/resource-policy: keep`, so neither a Helm
 * uninstall nor an upgrade that drops a CRD ever deletes one (and `pulumi destroy` leaves the
 * release itself in place: components/crds.ts); without it the uninstall deletes them, which is
 * what `retainCrds false` has always meant.
 *
 * The chart is written under `node_modules/.cache/` (the place build tools keep generated files),
 * in a folder named after its version and content digest: the path, and so the Release's inputs,
 * change exactly when the chart does, and a run with an unchanged bundle writes nothing.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import * as semver from "semver";

import { KEEP_POLICY, ManifestObject } from "../components/crds";

/**
 * The Helm release that holds the bundle: one per cluster, shared by every stack of this program
 * that installs CRDs there (they render the same chart for the same bundle), so that two stacks on
 * one cluster never fight over who owns the CRDs.
 */
export const BUNDLE_RELEASE = { name: "dot-ai-gateway-crds", namespace: "kube-system" } as const;
/** The chart's name, as `helm list` shows it. */
export const BUNDLE_CHART_NAME = "gateway-api-crds";
/**
 * The API server's limit for a Secret's data, where Helm stores each revision of a release
 * (gzipped chart and manifest). 16 KiB are left for the estimate's error and Helm's other fields.
 */
export const RELEASE_RECORD_LIMIT = 1024 * 1024;
const RECORD_HEADROOM = 16 * 1024;

export interface BundleChartSource {
  /** The bundle's release (`v1.6.3`): the chart's version and appVersion. */
  bundleVersion: string;
  /** The manifest's text, for the digest of a custom file (`gatewayApiCrdsFile`). */
  customFile?: string;
  /** Add Helm's `keep` policy to every object (retainCrds). */
  keep: boolean;
}

export interface BundleChart {
  /** Chart.yaml's version: the bundle's release, with the file's digest when it is a custom file. */
  version: string;
  /** Path of every file in the chart, relative to its folder, and its contents. */
  files: Record<string, string>;
}

/** The chart's version: `1.6.3`, or `1.6.3+sha.<digest>` for a custom file, which may differ from upstream's. */
export function bundleChartVersion(source: Pick<BundleChartSource, "bundleVersion" | "customFile">): string {
  const release = semver.valid(semver.coerce(source.bundleVersion, { includePrerelease: true })) ?? "0.0.0";
  if (source.customFile === undefined) return release;
  return `${release}+sha.${sha256(source.customFile).slice(0, 12)}`;
}

/** The chart's files: Chart.yaml and one template per object, rendered by Helm as they are. */
export function bundleChart(objects: readonly ManifestObject[], source: BundleChartSource): BundleChart {
  const version = bundleChartVersion(source);
  const chartYaml = [
    "apiVersion: v2",
    `name: ${BUNDLE_CHART_NAME}`,
    `description: The Gateway API ${source.bundleVersion} CRDs, as dot-ai-gateway installs them (generated from the bundle; do not edit).`,
    "type: application",
    `version: ${version}`,
    `appVersion: ${JSON.stringify(source.bundleVersion)}`,
    "",
  ].join("\n");
  const files: Record<string, string> = { "Chart.yaml": chartYaml };
  objects.forEach((obj, index) => {
    const annotations = {
      ...(obj.metadata.annotations as Record<string, string> | undefined),
      ...(source.keep ? KEEP_POLICY : {}),
    };
    const object = { ...obj, metadata: { ...obj.metadata, annotations } };
    // JSON is YAML to Helm; `{{` is the only text its template engine would not pass through.
    const name = `templates/${String(index).padStart(2, "0")}-${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`;
    files[name] = JSON.stringify(object).replaceAll("{{", '{{ "{{" }}') + "\n";
  });
  return { version, files };
}

/**
 * The size of one revision's record as Helm stores it: the release (chart templates base64-encoded
 * in JSON, rendered manifest) gzipped, then base64-encoded into the Secret's data.
 */
export function releaseRecordBytes(chart: BundleChart): number {
  const templates = Object.entries(chart.files).filter(([name]) => name.startsWith("templates/"));
  const manifest = templates
    .map(([name, text]) => `---\n# Source: ${BUNDLE_CHART_NAME}/${name}\n${text.replaceAll('{{ "{{" }}', "{{")}`)
    .join("");
  const release = {
    name: BUNDLE_RELEASE.name,
    chart: {
      metadata: { name: BUNDLE_CHART_NAME, version: chart.version },
      templates: templates.map(([name, data]) => ({ name, data: Buffer.from(data).toString("base64") })),
    },
    manifest,
  };
  const gzipped = gzipSync(JSON.stringify(release));
  return Math.ceil(gzipped.length / 3) * 4;
}

/** Whether a release record of `bytes` fits in a Secret, with room for what the estimate leaves out. */
export function recordFits(bytes: number): boolean {
  return bytes <= RELEASE_RECORD_LIMIT - RECORD_HEADROOM;
}

/** Where charts are written; tests point it elsewhere. */
export const bundleChartStore = { root: path.join("node_modules", ".cache", "dot-ai-gateway") };

/**
 * Writes the chart where the Kubernetes provider reads it (relative to the project, the provider's
 * working directory, so the path in the state is the same on every machine), unless a run wrote
 * this very chart before. Returns the path to give the Release.
 */
export function writeBundleChart(chart: BundleChart, root = bundleChartStore.root): string {
  const { dir, given } = chartPlace(chart, root);
  if (fs.existsSync(path.join(dir, "Chart.yaml"))) return given;
  fs.mkdirSync(root, { recursive: true });
  // Written aside, then renamed: a run killed halfway, or two at once, never leaves a partial chart.
  const staging = fs.mkdtempSync(path.join(root, `.${BUNDLE_CHART_NAME}-`));
  try {
    for (const [name, text] of Object.entries(chart.files)) {
      fs.mkdirSync(path.join(staging, path.dirname(name)), { recursive: true });
      fs.writeFileSync(path.join(staging, name), text);
    }
    fs.renameSync(staging, dir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    // Another run renamed the same chart into place first.
    if (!fs.existsSync(path.join(dir, "Chart.yaml"))) throw error;
  }
  return given;
}

/**
 * The path of this chart when a run wrote it before (its size was checked then), else undefined.
 */
export function writtenBundleChart(chart: BundleChart, root = bundleChartStore.root): string | undefined {
  const { dir, given } = chartPlace(chart, root);
  return fs.existsSync(path.join(dir, "Chart.yaml")) ? given : undefined;
}

/** Where a chart is written: its folder, and that folder as the Release is given it. */
function chartPlace(chart: BundleChart, root: string): { dir: string; given: string } {
  const digest = sha256(JSON.stringify(chart.files)).slice(0, 12);
  const dir = path.join(root, `${BUNDLE_CHART_NAME}-${chart.version}-${digest}`);
  return { dir, given: path.isAbsolute(dir) ? dir : `./${dir}` };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

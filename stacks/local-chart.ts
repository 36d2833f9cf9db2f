/**
 * The version of a chart on disk: a chart directory or a packaged chart (`.tgz`, as `helm package`
 * writes it). Helm, and so the Release resource, accepts both as `chart`; the version that decides
 * which values the program passes is the one in the chart's own Chart.yaml.
 */
import * as fs from "fs";
import * as path from "path";
import * as tar from "tar";
import { CORE_SCHEMA, load } from "js-yaml";

export type LocalChartVersion = { version: string } | { problem: string };

export function readLocalChartVersion(chartPath: string): LocalChartVersion {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(chartPath);
  } catch {
    return { problem: `'${chartPath}' does not exist` };
  }
  if (stat.isDirectory()) {
    const chartYaml = path.join(chartPath, "Chart.yaml");
    if (!fs.existsSync(chartYaml)) return { problem: `'${chartPath}' is not a chart directory (no Chart.yaml there)` };
    return versionOf(fs.readFileSync(chartYaml, "utf8"), chartYaml);
  }
  let chartYaml: string | undefined;
  try {
    chartYaml = readPackagedChartFile(chartPath, "Chart.yaml");
  } catch (error) {
    return { problem: `'${chartPath}' is not a packaged chart (${(error as Error).message})` };
  }
  if (chartYaml === undefined)
    return { problem: `'${chartPath}' is not a packaged chart (no <chart>/Chart.yaml inside)` };
  return versionOf(chartYaml, `${chartPath}:Chart.yaml`);
}

/**
 * A file of a packaged chart, by its path inside the chart (e.g. "Chart.yaml", "values.yaml"). The
 * package holds one top-level folder named after the chart; subcharts sit deeper, under charts/.
 */
export function readPackagedChartFile(file: string, inner: string): string | undefined {
  const chunks: Buffer[] = [];
  let found = false;
  tar.list({
    file,
    sync: true,
    onReadEntry: (entry) => {
      const slash = entry.path.indexOf("/");
      if (!found && slash > 0 && entry.path.slice(slash + 1) === inner) {
        found = true;
        entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      }
    },
  });
  return found ? Buffer.concat(chunks).toString("utf8") : undefined;
}

function versionOf(text: string, where: string): LocalChartVersion {
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    return { problem: `${where} is not valid YAML (${(error as Error).message})` };
  }
  const version = typeof doc === "object" && doc !== null ? (doc as { version?: unknown }).version : undefined;
  return typeof version === "string" ? { version } : { problem: `${where} has no version` };
}

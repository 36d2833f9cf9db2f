/**
 * Images and chart version pinned (advisory).
 *
 * Why: a remote chart without `version` is whatever the registry serves as newest at the time of
 * each `pulumi up`, so two runs of the same program deploy different software, and a chart whose
 * values changed meaning (the dot-ai chart has no values schema, and Helm ignores unknown keys)
 * is picked up silently. An image tag `latest`, or no tag while the repository is overridden (the
 * chart's default tag then names a version of a different image), makes every pod restart a
 * potential upgrade and a rollback impossible to name.
 *
 * Checked on every Helm release: a chart from `oci://`, `http(s)://` or a `repositoryOpts.repo`
 * without `version`; anywhere in the values, an `image` whose `tag` is `latest`, or empty or
 * missing while its `repository` is set (an `image.digest` pins it regardless); and an `image`
 * string with the tag `latest` or without a tag or digest.
 */

import { isHelmRelease, knownValues } from "./lib/dot-ai";
import { ResourceCheck, resourcePolicy } from "./lib/resources";
import { Json, UNKNOWN, asString, at, isObject, shown } from "./lib/values";

export const NAME = "pinned-chart-and-images";

function isRemoteChart(props: Json): boolean {
  const chart = asString(at(props, "chart")) ?? "";
  const repo = asString(at(props, "repositoryOpts", "repo")) ?? "";
  return /^(oci|https?):\/\//i.test(chart) || repo !== "";
}

function nonEmpty(value: Json | undefined): boolean {
  return typeof value === "string" && value.trim() !== "";
}

/** What is wrong with an `image` value, if anything. */
function imageProblem(image: Json): string | undefined {
  if (typeof image === "string") {
    if (image.includes("@")) return undefined;
    const lastPart = image.split("/").pop() ?? "";
    const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : "";
    if (tag === "") return `'${image}' has no tag (the runtime pulls latest)`;
    return tag.toLowerCase() === "latest" ? `'${image}' uses the tag latest` : undefined;
  }
  if (!isObject(image)) return undefined;
  const tag = image.tag;
  if (tag === UNKNOWN || image.digest === UNKNOWN || nonEmpty(image.digest)) return undefined;
  if (typeof tag === "string" && tag.trim().toLowerCase() === "latest") return "tag is latest";
  if (!nonEmpty(tag) && nonEmpty(image.repository)) {
    return `repository is overridden (${shown(image.repository)}) but the tag is ${tag === undefined ? "not set" : "empty"}`;
  }
  return undefined;
}

function imageProblems(value: Json, path: string, found: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => imageProblems(item, `${path}[${i}]`, found));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === "image") {
      const problem = imageProblem(child);
      if (problem) found.push(`${childPath}: ${problem}`);
    }
    imageProblems(child, childPath, found);
  }
}

const DESCRIPTION = "Helm releases pin the chart version of a remote chart and never use a latest or empty image tag.";

const check: ResourceCheck = (res, _config, report) => {
  if (!isHelmRelease(res)) return;
  const problems: string[] = [];
  const version = at(res.props, "version");
  if (isRemoteChart(res.props) && version !== UNKNOWN && !nonEmpty(version)) {
    problems.push(
      `the remote chart ${asString(at(res.props, "chart")) ?? ""} has no version: each deployment takes whatever is newest`,
    );
  }
  const values = knownValues(res);
  if (values !== UNKNOWN && values !== undefined) imageProblems(values, "", problems);
  if (problems.length === 0) return;
  report(`Not pinned: ${problems.join("; ")}. Pin the chart version and image tags (or digests).`);
};

export const policy = resourcePolicy(NAME, { enforcementLevel: "advisory", severity: "medium" }, DESCRIPTION, check);

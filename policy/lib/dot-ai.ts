/**
 * What the policies read of a Helm release of the dot-ai chart (see the chart contract in
 * components/chart-contract.ts and the project's shared notes): which Gateway its HTTPRoute
 * attaches to, in which namespace, and under which name the chart creates its own objects.
 */
import { chartFullname as templateFullname, dnsLabelCut } from "../../components/chart-contract";
import { ResourceCheck, Res, TYPES } from "./resources";
import { Json, JsonObject, UNKNOWN, Unknown, asString, at, isObject } from "./values";

const CHART_NAME = "dot-ai";

export function isHelmRelease(res: Res): boolean {
  return res.type === TYPES.helmRelease;
}

/** The last part of a chart reference: `oci://…/dot-ai`, `…/dot-ai-2.2.2.tgz`, `repo/dot-ai`, `./dot-ai/`. */
function chartBaseName(chart: string): string {
  const parts = chart.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] ?? "";
}

/**
 * A release of the dot-ai chart: its values carry both `gateway` and `secrets` (the chart's keys),
 * or its chart reference is named dot-ai.
 */
export function isDotAiRelease(res: Res): boolean {
  if (!isHelmRelease(res)) return false;
  const values = at(res.props, "values");
  if (isObject(at(values, "gateway")) && isObject(at(values, "secrets"))) return true;
  const chart = asString(at(res.props, "chart"));
  return chart !== undefined && chartBaseName(chart).includes(CHART_NAME);
}

/** The release's values when they are known (at preview they may be computed from other outputs). */
export function knownValues(res: Res): JsonObject | Unknown | undefined {
  const values = at(res.props, "values");
  if (values === UNKNOWN) return UNKNOWN;
  return isObject(values) ? values : undefined;
}

/**
 * A check of the values of a Helm release (every one, or dot-ai's only). A release whose values are
 * not known yet (computed from other outputs, on a new stack's preview) is judged at `up`.
 */
export function releaseValuesCheck(
  releases: "helm" | "dot-ai",
  check: (values: JsonObject, res: Res, report: (message: string) => void) => void,
): ResourceCheck {
  return (res, _config, report) => {
    if (!(releases === "dot-ai" ? isDotAiRelease(res) : isHelmRelease(res))) return;
    const values = knownValues(res);
    if (values === UNKNOWN || values === undefined) return;
    check(values, res, report);
  };
}

/** The release namespace (`default` when not set, as Helm and the provider do). */
export function releaseNamespace(res: Res): string | Unknown {
  const ns = at(res.props, "namespace");
  if (ns === undefined || ns === "") return "default";
  return typeof ns === "string" ? ns : UNKNOWN;
}

/** The chart's `dot-ai.fullname` template: the name of its Deployment, HTTPRoute, ClusterRole, `<fullname>-http` Gateway. */
export function chartFullname(res: Res, values: JsonObject): string | Unknown {
  const override = at(values, "fullnameOverride");
  if (override === UNKNOWN) return UNKNOWN;
  if (typeof override === "string" && override !== "") return dnsLabelCut(override);
  const nameOverride = at(values, "nameOverride");
  if (nameOverride === UNKNOWN) return UNKNOWN;
  const name = typeof nameOverride === "string" && nameOverride !== "" ? nameOverride : CHART_NAME;
  const release = at(res.props, "name");
  // Without a name, Pulumi picks one with a random suffix when it creates the release.
  if (typeof release !== "string" || release === "") return UNKNOWN;
  return templateFullname(release, name);
}

/** The Gateway the chart's HTTPRoute names as its parent (without a sectionName: every listener). */
export type RouteParent =
  | { kind: "reference" | "created"; name: string | Unknown; namespace: string }
  /** The chart renders no HTTPRoute (no `gateway.name`, no `gateway.create`). */
  | { kind: "none" }
  /** Not known at preview. */
  | { kind: "unknown" };

/** Helm treats a value as set when it is truthy in a Go template: not false, null, 0 or "". */
export function helmTruthy(value: Json | undefined): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === "");
}

export function routeParent(res: Res): RouteParent {
  const values = knownValues(res);
  const namespace = releaseNamespace(res);
  if (values === UNKNOWN || namespace === UNKNOWN) return { kind: "unknown" };
  if (values === undefined) return { kind: "none" };
  const create = at(values, "gateway", "create");
  const name = at(values, "gateway", "name");
  if (create === UNKNOWN || name === UNKNOWN) return { kind: "unknown" };
  if (helmTruthy(create)) {
    const fullname = chartFullname(res, values);
    return { kind: "created", name: fullname === UNKNOWN ? UNKNOWN : `${fullname}-http`, namespace };
  }
  if (typeof name === "string" && name !== "") {
    const gatewayNamespace = at(values, "gateway", "namespace");
    if (gatewayNamespace === UNKNOWN) return { kind: "unknown" };
    return {
      kind: "reference",
      name,
      namespace: typeof gatewayNamespace === "string" && gatewayNamespace !== "" ? gatewayNamespace : namespace,
    };
  }
  return { kind: "none" };
}

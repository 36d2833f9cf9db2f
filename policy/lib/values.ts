/**
 * Resource properties as plain data. The engine hands policies a resource's properties wrapped in
 * @pulumi/policy's unknown-checking proxy, which throws on any read of a value that is not known
 * yet (at preview, e.g. anything computed from another resource's output). The policies here must
 * never throw, so they read a plain copy in which every such value is `UNKNOWN`, and skip a check
 * whose inputs are unknown instead of failing the whole policy.
 */

export const UNKNOWN = Symbol("unknown");
export type Unknown = typeof UNKNOWN;
export type Json = string | number | boolean | null | Unknown | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * The sentinels the engine and @pulumi/policy (proxy.js: unknownBooleanValue, unknownNumberValue,
 * unknownStringValue, unknownArrayValue, unknownAssetValue, unknownArchiveValue, unknownObjectValue)
 * use for values that are not known: in a proxied read they throw, in a raw read they are strings.
 */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** Helm values and CRDs nest, but not this deep; deeper (or cyclic) data is treated as unknown. */
const MAX_DEPTH = 64;

/** A plain copy of `value`: every read that throws, and every unknown sentinel, becomes `UNKNOWN`. */
export function plain(value: unknown): Json {
  return copy(value, 0);
}

function attempt<T>(read: () => T): T | Unknown {
  try {
    return read();
  } catch {
    return UNKNOWN;
  }
}

function copy(value: unknown, depth: number): Json {
  if (depth > MAX_DEPTH) return UNKNOWN;
  if (typeof value === "string") return UNKNOWN_SENTINELS.has(value) ? UNKNOWN : value;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  if (typeof value !== "object") return UNKNOWN;
  if (attempt(() => Array.isArray(value)) === true) {
    const list = value as unknown[];
    const length = attempt(() => list.length);
    if (typeof length !== "number") return UNKNOWN;
    const out: Json[] = [];
    for (let i = 0; i < length; i++) out.push(attempt(() => copy(list[i], depth + 1)));
    return out;
  }
  const record = value as Record<string, unknown>;
  const keys = attempt(() => Object.keys(record));
  if (keys === UNKNOWN) return UNKNOWN;
  const out: JsonObject = {};
  for (const key of keys) {
    const field = attempt(() => record[key]);
    // Like the engine, a property whose value is undefined does not exist.
    if (field !== undefined) out[key] = field === UNKNOWN ? UNKNOWN : attempt(() => copy(field, depth + 1));
  }
  return out;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value at `path` below `value`: `UNKNOWN` if an unknown value is met on the way, undefined if
 * a step is missing or of the wrong shape.
 */
export function at(value: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let current = value;
  for (const step of path) {
    if (current === UNKNOWN) return UNKNOWN;
    if (typeof step === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isObject(current) || !Object.prototype.hasOwnProperty.call(current, step)) return undefined;
      current = current[step];
    }
  }
  return current;
}

/** A value for a message: strings as they are, anything else (unknown, missing, odd) as "?". */
export function shown(value: Json | undefined): string {
  return typeof value === "string" ? value : "?";
}

export function asString(value: Json | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The elements of an array value; none for anything else (missing, unknown, wrong shape). */
export function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** A string list from policy config; `fallback` when it is missing or not a list of strings. */
export function stringList(value: unknown, fallback: string[]): string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : fallback;
}

/**
 * Which Helm values hold a credential: the dot-ai chart's own secret values, and anywhere a
 * non-empty string under a secret-looking key (token, apiKey, password, privateKey, clientSecret,
 * …) or an `{name, value}` environment entry whose name looks like a credential. Used by the
 * `helm-values-no-secrets` policy and by the adoption of a release (cluster/migration-check.ts),
 * whose kept values would otherwise land in the stack's state.
 */

/** A value not known yet (the policy pack's `UNKNOWN`, a symbol): it may well be a credential. */
function isUnknown(value: unknown): boolean {
  return typeof value === "symbol";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The dot-ai chart's credential values (chart 2.2.2: auth.token, <provider>.apiKey, copilot.token, githubApp.privateKey). */
const CHART_SECRET_FIELDS = ["token", "apiKey", "privateKey"];

/** Keys (lower case, without `-`/`_`) whose string value is a credential, matched at the end of the key. */
const SECRET_KEY_SUFFIXES = [
  "token",
  "apikey",
  "password",
  "passwd",
  "privatekey",
  "clientsecret",
  "secretkey",
  "secretaccesskey",
];
/** Environment variable names are matched the same way, plus a bare `…_SECRET`. */
const SECRET_ENV_SUFFIXES = [...SECRET_KEY_SUFFIXES, "secret"];

function normalise(key: string): string {
  return key.toLowerCase().replace(/[-_.]/g, "");
}

function isSecretKey(key: string, suffixes: readonly string[] = SECRET_KEY_SUFFIXES): boolean {
  const k = normalise(key);
  // `existingSecret…` keys name a Secret or a key in it (e.g. existingSecretKey), they hold no credential.
  return !k.startsWith("existing") && suffixes.some((s) => k.endsWith(s));
}

/** A value that puts a credential into the values: a non-empty string, or one not known yet. */
function holdsValue(value: unknown): boolean {
  return isUnknown(value) || (typeof value === "string" && value.trim() !== "");
}

function describe(path: string, value: unknown): string {
  return isUnknown(value) ? `${path} (computed during the deployment)` : path;
}

function chartSecrets(values: unknown): string[] {
  const found: string[] = [];
  const secrets = isObject(values) ? values.secrets : undefined;
  if (!isObject(secrets)) return found;
  for (const [provider, entry] of Object.entries(secrets)) {
    if (!isObject(entry)) continue;
    for (const field of CHART_SECRET_FIELDS) {
      if (holdsValue(entry[field])) found.push(describe(`secrets.${provider}.${field}`, entry[field]));
    }
  }
  return found;
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  const safe = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${safe}` : safe;
}

function secretLookingValues(value: unknown, path: string, found: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => secretLookingValues(item, join(path, i), found));
    return;
  }
  if (!isObject(value)) return;
  // An environment entry: {name: "API_TOKEN", value: "..."}.
  const envName = value.name;
  if (typeof envName === "string" && isSecretKey(envName, SECRET_ENV_SUFFIXES) && holdsValue(value.value)) {
    found.push(describe(`${join(path, "value")} (variable ${envName})`, value.value));
  }
  for (const [key, child] of Object.entries(value)) {
    if (isSecretKey(key) && holdsValue(child)) found.push(describe(join(path, key), child));
    else secretLookingValues(child, join(path, key), found);
  }
}

/**
 * The paths in `values` that hold a credential, each once, with a note when its value is not known
 * yet; `dotAi` adds the dot-ai chart's own secret values (`secrets.<provider>.<field>`).
 */
export function secretPaths(values: unknown, dotAi: boolean): string[] {
  const found = dotAi ? chartSecrets(values) : [];
  secretLookingValues(values, "", found);
  const paths = found.map((f) => f.split(" ")[0]);
  // A chart key is also a secret-looking key: keep the first mention only.
  return found.filter((_, i) => paths.indexOf(paths[i]) === i);
}

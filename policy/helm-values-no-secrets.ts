/**
 * No secret value in Helm values (mandatory).
 *
 * Why: Helm stores a release's values in plaintext in its release Secret (`sh.helm.release.v1.*`),
 * readable by anyone who may read Secrets in the namespace, and keeps every revision; Pulumi keeps
 * them in the Release's state too. The dot-ai chart also renders a Secret of its own as soon as
 * `secrets.auth.token`, a `secrets.<provider>.apiKey` (or `.token`, `githubApp.privateKey`) is
 * non-empty, which then competes with the one the program creates. Credentials belong in a
 * Kubernetes Secret created outside the chart; the values only name it (`secrets.name`) and its
 * keys (`secrets.<provider>.keyName`), which this policy leaves alone.
 *
 * Reported: those keys of a dot-ai release when non-empty, and anywhere in any release's values a
 * non-empty string under a secret-looking key (token, apiKey, password, privateKey, clientSecret,
 * …) or an `{name, value}` environment entry whose name looks like a credential. A value that is
 * not known at preview under such a key is reported too: it comes from another resource's output,
 * which is how a generated credential usually arrives. The values themselves are never printed.
 */

import { isDotAiRelease, releaseValuesCheck } from "./lib/dot-ai";
import { ResourceCheck, resourcePolicy } from "./lib/resources";
import { Json, UNKNOWN, isObject } from "./lib/values";

export const NAME = "helm-values-no-secrets";

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

export function isSecretKey(key: string, suffixes: readonly string[] = SECRET_KEY_SUFFIXES): boolean {
  const k = normalise(key);
  // `existingSecret…` keys name a Secret or a key in it (e.g. existingSecretKey), they hold no credential.
  return !k.startsWith("existing") && suffixes.some((s) => k.endsWith(s));
}

/** A value that puts a credential into the values: a non-empty string, or one not known yet. */
function holdsValue(value: Json | undefined): boolean {
  return value === UNKNOWN || (typeof value === "string" && value.trim() !== "");
}

function describe(path: string, value: Json | undefined): string {
  return value === UNKNOWN ? `${path} (computed during the deployment)` : path;
}

function chartSecrets(values: Json): string[] {
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

function secretLookingValues(value: Json, path: string, found: string[]): void {
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

export function secretPaths(values: Json, dotAi: boolean): string[] {
  const found = dotAi ? chartSecrets(values) : [];
  secretLookingValues(values, "", found);
  const paths = found.map((f) => f.split(" ")[0]);
  // A chart key is also a secret-looking key: keep the first mention only.
  return found.filter((_, i) => paths.indexOf(paths[i]) === i);
}

const DESCRIPTION = "Helm values never carry a secret value: credentials live in a Secret the chart only references.";

const check: ResourceCheck = releaseValuesCheck("helm", (values, res, report) => {
  const dotAi = isDotAiRelease(res);
  const paths = secretPaths(values, dotAi);
  if (paths.length === 0) return;
  report(
    `Helm values hold secret values at: ${paths.join(", ")}. Helm keeps values in plaintext in its release Secret, ` +
      "in every revision" +
      (dotAi
        ? ", and the dot-ai chart renders a Secret of its own when any of its secrets.* values is non-empty"
        : "") +
      ". Put the credential in a Kubernetes Secret created outside the chart and pass only its name and key names " +
      (dotAi ? "(secrets.name, secrets.<provider>.keyName)." : "(e.g. an existingSecret value)."),
  );
});

export const policy = resourcePolicy(NAME, { enforcementLevel: "mandatory", severity: "high" }, DESCRIPTION, check);

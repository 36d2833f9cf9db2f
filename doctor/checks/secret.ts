import { timingSafeEqual } from "crypto";

import type { Expectations } from "../expectations";
import { refreshFix } from "../fixes";
import { CheckResult, fail, pass, skip } from "../result";
import { FORBIDDEN, Snapshot } from "../snapshot";

const ID = "secret";
const TITLE = "Secret the chart reads";

/** Equal digests, compared in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

export function checkSecret(x: Expectations, s: Snapshot): CheckResult {
  const app = x.app;
  if (!app) return skip(ID, TITLE, "a platform stack deploys no dot-ai");
  const where = `${app.namespace}/${app.secretName}`;
  const secret = s.appSecret;
  const authEffect = app.authKeyRequired
    ? `chart ${app.chartVersion} requires the key: new dot-ai pods fail with CreateContainerConfigError (running ones keep their old environment until they restart)`
    : `chart ${app.chartVersion} reads it as optional: a restarted dot-ai runs WITHOUT authentication`;
  if (secret === FORBIDDEN)
    return skip(
      ID,
      TITLE,
      `the credentials in use may not read Secret ${where} (run doctor as someone who may get Secrets in ${app.namespace})`,
    );
  if (secret === null || secret === undefined) {
    return fail(
      ID,
      TITLE,
      `Secret ${where} does not exist`,
      `dot-ai reads its token and API keys from it; ${authEffect}`,
      [refreshFix(x)],
    );
  }
  const missing = app.secretKeys.filter((k) => !secret.keys.includes(k));
  const problems: string[] = [];
  const causes: string[] = [];
  if (missing.length > 0) {
    problems.push(`Secret ${where} lacks ${missing.join(", ")}`);
    if (missing.includes(app.authKey)) causes.push(`the bearer token key ${app.authKey} was removed; ${authEffect}`);
    const apiKeys = missing.filter((k) => k !== app.authKey);
    if (apiKeys.length > 0)
      causes.push(`the chart is told to read ${apiKeys.join(", ")}, so dot-ai starts without those credentials`);
  }
  const fix = [refreshFix(x)];
  let tokenLine = "token not compared: the stack has no authToken output";
  const digest = secret.digests[app.authKey];
  if (x.authTokenDigest && digest) {
    if (sameDigest(x.authTokenDigest, digest)) tokenLine = "token matches the authToken output";
    else {
      problems.push(`the token in ${app.authKey} differs from the stack's authToken output`);
      causes.push(
        "the Secret was changed outside Pulumi: clients configured from mcpConfig/authToken get 401 from pods started since",
      );
      fix.push(`kubectl rollout restart deployment ${app.deployments[0]} -n ${app.namespace}   # after the refresh`);
    }
  } else if (!digest) tokenLine = "token not compared: the key is missing";
  if (problems.length > 0) return fail(ID, TITLE, problems.join("; "), causes.join("; "), fix);
  return pass(ID, TITLE, `${where} has ${app.secretKeys.join(", ")}; ${tokenLine}`);
}

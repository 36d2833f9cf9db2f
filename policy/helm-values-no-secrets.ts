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

import { secretPaths } from "../components/secret-values";
import { isDotAiRelease, releaseValuesCheck } from "./lib/dot-ai";
import { ResourceCheck, resourcePolicy } from "./lib/resources";

export const NAME = "helm-values-no-secrets";

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

import * as assert from "assert";

import { NAME, policy } from "../../policy/helm-values-no-secrets";
import { T, UNKNOWN_STRING, creationValues, referenceValues, release, validateResource } from "./support";

const SECRET = "sk-ant-not-a-real-key-0123456789";

function withSecrets(secrets: Record<string, unknown>): Record<string, unknown> {
  const values = referenceValues();
  return { ...values, secrets: { ...(values.secrets as object), ...secrets } };
}

describe(`policy ${NAME}`, () => {
  it("is mandatory", () => assert.strictEqual(policy.enforcementLevel, "mandatory"));

  it("passes the program's values: the Secret's name and key names, a revision digest in extraEnv", async () => {
    assert.deepStrictEqual(await validateResource(policy, release(referenceValues())), []);
    assert.deepStrictEqual(await validateResource(policy, release(creationValues())), []);
  });

  it("passes the chart's empty defaults", async () => {
    const values = withSecrets({ auth: { keyName: "auth-token", token: "" }, openai: { apiKey: "" } });
    assert.deepStrictEqual(await validateResource(policy, release(values)), []);
  });

  it("refuses the chart's secret values, naming each path but never the value", async () => {
    const values = withSecrets({
      auth: { keyName: "auth-token", token: SECRET },
      anthropic: { keyName: "anthropic-api-key", apiKey: SECRET },
      githubApp: { enabled: true, appId: "12345", privateKey: SECRET },
    });
    const violations = await validateResource(policy, release(values));
    assert.strictEqual(violations.length, 1);
    const { message } = violations[0];
    for (const path of ["secrets.auth.token", "secrets.anthropic.apiKey", "secrets.githubApp.privateKey"]) {
      assert.ok(message.includes(path), `${path} in: ${message}`);
    }
    assert.ok(!message.includes("appId"));
    assert.ok(!message.includes(SECRET), "the value is not printed");
    assert.match(message, /renders a Secret of its own/);
  });

  it("refuses a value computed during the deployment (unknown at preview) under a secret key", async () => {
    const violations = await validateResource(policy, release(withSecrets({ auth: { token: UNKNOWN_STRING } })));
    assert.strictEqual(violations.length, 1);
    assert.match(violations[0].message, /secrets\.auth\.token \(computed during the deployment\)/);
  });

  it("refuses secret-looking keys and credential env entries anywhere, in any release", async () => {
    const values = {
      auth: { existingSecret: "pg", existingSecretPasswordKey: "password", postgresPassword: SECRET },
      sso: { "client-secret": SECRET, clientId: "dot-ai" },
      extraEnv: [
        { name: "GITHUB_TOKEN", value: SECRET },
        { name: "DOT_AI_SECRETS_REVISION", value: "0f1e" },
        { name: "API_KEY", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
      ],
    };
    const other = { type: T.release, props: { name: "db", chart: "./charts/postgresql", values } };
    const violations = await validateResource(policy, other);
    assert.strictEqual(violations.length, 1);
    const { message } = violations[0];
    assert.ok(message.includes("auth.postgresPassword"), message);
    assert.ok(message.includes("sso.client-secret"), message);
    assert.ok(message.includes("extraEnv[0].value (variable GITHUB_TOKEN)"), message);
    for (const fine of ["auth.existingSecret", "clientId", "DOT_AI_SECRETS_REVISION", "API_KEY"]) {
      assert.ok(!message.includes(fine), `${fine} is not reported: ${message}`);
    }
    assert.ok(!message.includes(SECRET));
  });

  it("skips values not known at preview and other resource types", async () => {
    assert.deepStrictEqual(await validateResource(policy, release(UNKNOWN_STRING)), []);
    assert.deepStrictEqual(
      await validateResource(policy, { type: T.namespace, props: { metadata: { name: "x" }, token: SECRET } }),
      [],
    );
  });
});

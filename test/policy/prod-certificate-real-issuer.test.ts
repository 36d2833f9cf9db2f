import * as assert from "assert";

import { NAME, policy } from "../../policy/prod-certificate-real-issuer";
import { T, TestResource, certificate, validateAll, validateResource, validateStack } from "./support";

const LETSENCRYPT = { group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt-prod" };

function clusterIssuer(name: string, spec: Record<string, unknown>, stack = "prod"): TestResource {
  return { type: T.clusterIssuer, name, stack, props: { metadata: { name }, spec } };
}

describe(`policy ${NAME}`, () => {
  it("is mandatory", () => assert.strictEqual(policy.enforcementLevel, "mandatory"));

  it("passes the prod Certificate from letsencrypt-prod", async () => {
    assert.deepStrictEqual(await validateAll(policy, [certificate(LETSENCRYPT)]), []);
  });

  it("refuses an issuer whose name says self-signed or staging, on prod only", async () => {
    for (const name of ["selfsigned", "self-signed-ca", "letsencrypt-staging", "LE-Staging"]) {
      const violations = await validateResource(policy, certificate({ ...LETSENCRYPT, name }));
      assert.strictEqual(violations.length, 1, name);
      assert.match(violations[0].message, /Certificate gateway-system\/wildcard on prod stack 'prod'/);
    }
    assert.deepStrictEqual(
      await validateResource(policy, certificate({ ...LETSENCRYPT, name: "selfsigned" }, "dev")),
      [],
    );
  });

  it("accepts the names in allowedIssuers, and other prod stacks from prodStacks", async () => {
    const cert = certificate({ ...LETSENCRYPT, name: "selfsigned" });
    assert.deepStrictEqual(await validateResource(policy, cert, { allowedIssuers: ["selfsigned"] }), []);
    const live = certificate({ ...LETSENCRYPT, name: "selfsigned" }, "live");
    assert.strictEqual((await validateResource(policy, live, { prodStacks: ["live"] })).length, 1);
  });

  it("refuses an issuer of the stack that is self-signed or uses the ACME staging server", async () => {
    const staging = {
      acme: { server: "https://acme-staging-v02.api.letsencrypt.org/directory", privateKeySecretRef: {} },
    };
    for (const spec of [{ selfSigned: {} }, staging]) {
      const stack = [clusterIssuer("internal", spec), certificate({ ...LETSENCRYPT, name: "internal" })];
      const violations = await validateStack(policy, stack);
      assert.strictEqual(violations.length, 1, JSON.stringify(spec));
      assert.match(
        violations[0].message,
        /ClusterIssuer 'internal' of this stack, which (is self-signed|uses the ACME staging)/,
      );
      assert.match(violations[0].urn!, /Certificate::wildcard$/);
      assert.deepStrictEqual(await validateStack(policy, stack, { allowedIssuers: ["internal"] }), []);
    }
  });

  it("passes an issuer of the stack on the ACME production server, and matches Issuers by namespace", async () => {
    const prodAcme = { acme: { server: "https://acme-v02.api.letsencrypt.org/directory" } };
    assert.deepStrictEqual(
      await validateStack(policy, [
        clusterIssuer("internal", prodAcme),
        certificate({ ...LETSENCRYPT, name: "internal" }),
      ]),
      [],
    );
    const issuer = (namespace: string): TestResource => ({
      type: T.issuer,
      name: `ca-${namespace}`,
      stack: "prod",
      props: { metadata: { name: "ca", namespace }, spec: { selfSigned: {} } },
    });
    const cert = certificate({ kind: "Issuer", name: "ca" });
    assert.strictEqual((await validateStack(policy, [issuer("gateway-system"), cert])).length, 1);
    assert.deepStrictEqual(await validateStack(policy, [issuer("elsewhere"), cert]), []);
  });
});

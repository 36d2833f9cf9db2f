/**
 * Every object the program emits, checked against published schemas: the Kubernetes core types
 * (kubernetes-models), Gateway API and cert-manager (their CRD schemas, via @kubernetes-models).
 *
 * Those packages carry the Gateway API v1.0.0 and cert-manager v1.11 CRD schemas, the newest
 * that run on Node.js 20; for the fields emitted here (Gateway listeners, TLS, allowedRoutes,
 * ReferenceGrant, Certificate) v1.0.0 and the bundles up to v1.6.3 agree. ReferenceGrant v1
 * (served from v1.5.0) has the v1beta1 schema, so v1beta1's checks both. The end-to-end tests
 * apply the same objects to a real API server holding the real default bundle.
 */
import * as assert from "assert";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { ReferenceGrant } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant";
import { ValidatingAdmissionPolicy } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
import { ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

import { FIXTURE_CRDS_V1_2_1, RecordedResource, TYPES, devSpec, prodSpec, runStack } from "./harness";

type Validator = (obj: Record<string, unknown>) => void;
const VALIDATORS: Record<string, Validator> = {
  [TYPES.namespace]: (o) => new Namespace(o as never).validate(),
  [TYPES.secret]: (o) => new Secret(o as never).validate(),
  [TYPES.crd]: (o) => new CustomResourceDefinition(o as never).validate(),
  [TYPES.gateway]: (o) => new Gateway(o as never).validate(),
  [TYPES.referenceGrant]: (o) =>
    new ReferenceGrant({ ...o, apiVersion: ReferenceGrant.apiVersion } as never).validate(),
  [TYPES.referenceGrantV1beta1]: (o) => new ReferenceGrant(o as never).validate(),
  [TYPES.admissionPolicy]: (o) => new ValidatingAdmissionPolicy(o as never).validate(),
  [TYPES.admissionPolicyBinding]: (o) => new ValidatingAdmissionPolicyBinding(o as never).validate(),
  [TYPES.certificate]: (o) => new Certificate(o as never).validate(),
  [TYPES.httpRoute]: (o) => new HTTPRoute(o as never).validate(),
  [TYPES.serviceAccount]: (o) => new ServiceAccount(o as never).validate(),
  [TYPES.clusterRole]: (o) => new ClusterRole(o as never).validate(),
  [TYPES.clusterRoleBinding]: (o) => new ClusterRoleBinding(o as never).validate(),
  [TYPES.roleBinding]: (o) => new RoleBinding(o as never).validate(),
  // A patch is a partial object, merged by server-side apply into the Gateway the chart created:
  // it may set metadata and listeners only (the merged whole must be a Gateway: checked with the
  // class the chart sets, and a listener when the patch adds none).
  [TYPES.gatewayPatch]: (o) => {
    const { metadata, spec, ...rest } = o as { metadata: Record<string, unknown>; spec?: Record<string, unknown> };
    assert.deepStrictEqual(Object.keys(rest).sort(), ["apiVersion", "kind"], "a Gateway patch sets metadata and spec");
    assert.deepStrictEqual(Object.keys(metadata).sort(), ["annotations", "name", "namespace"]);
    assert.deepStrictEqual(Object.keys(spec ?? { listeners: [] }), ["listeners"], "of the spec, listeners only");
    new Gateway({
      ...rest,
      metadata,
      spec: { gatewayClassName: "c", listeners: spec?.listeners ?? [{ name: "l", protocol: "HTTP", port: 80 }] },
    } as never).validate();
  },
};

/** The object as the API server receives it: Pulumi-only annotations stay, they are ordinary annotations. */
function manifest(resource: RecordedResource): Record<string, unknown> {
  const [, apiVersion, kind] = /^kubernetes:(.+):([^:]+)$/.exec(resource.type)!;
  const { status: _status, ...fields } = resource.inputs; // eslint-disable-line @typescript-eslint/no-unused-vars -- status is an output, not sent
  // A Patch resource (type `<Kind>Patch`) applies to an object of `<Kind>`.
  return { ...fields, apiVersion: apiVersion.replace(/^core\//, ""), kind: kind.replace(/Patch$/, "") };
}

describe("emitted Kubernetes objects validate against the upstream schemas", () => {
  for (const [label, spec] of [
    ["prod", prodSpec({ allowedRoutes: "Selector" })],
    ["prod on Gateway API v1.2.1", prodSpec({ gatewayApiVersion: "v1.2.1", gatewayApiCrdsFile: FIXTURE_CRDS_V1_2_1 })],
    ["dev", devSpec()],
    ["dev with a scoped agent", devSpec({ agentAccess: "read-write-namespaces", agentWriteNamespaces: '["apps"]' })],
  ] as const) {
    it(`for the ${label} stack`, async () => {
      const run = await runStack(spec);
      if (run.error) throw run.error;
      const kubernetesObjects = run.resources.filter(
        (r) => r.type.startsWith("kubernetes:") && r.type !== TYPES.release,
      );
      assert.ok(kubernetesObjects.length >= 5);
      for (const resource of kubernetesObjects) {
        const validate = VALIDATORS[resource.type];
        assert.ok(validate, `no schema check for ${resource.type}`);
        try {
          validate(manifest(resource));
        } catch (e) {
          assert.fail(`${resource.type} ${resource.name} is invalid: ${(e as Error).message}`);
        }
      }
    });
  }

  it("and the check itself rejects what the real schema rejects", () => {
    assert.throws(() =>
      VALIDATORS[TYPES.gateway]({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: { name: "g" },
        spec: {
          gatewayClassName: "c",
          listeners: [
            { name: "http", port: 80, protocol: "HTTP", allowedRoutes: { namespaces: { from: "Everyone" } } },
          ],
        },
      }),
    );
    assert.throws(() =>
      VALIDATORS[TYPES.certificate]({
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: "c" },
        spec: { dnsNames: ["a.example.com"] },
      }),
    );
  });
});

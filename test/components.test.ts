import * as assert from "assert";

import { DOT_AI_PREVIOUS_NAMES, DotAi, DotAiArgs } from "../components/app";
import { GatewayApiCrds, ManifestObject } from "../components/crds";
import { earlierName } from "../components/names";
import { SHARED_GATEWAY_PREVIOUS_NAMES, SharedGateway, SharedGatewayArgs } from "../components/platform";
import { RecordedResource, TYPES, runProgram } from "./harness";

/** Runs `build` under the harness's mocks and returns the components' children it registered. */
async function childrenOf(build: () => void): Promise<RecordedResource[]> {
  const run = await runProgram({ stack: "components" }, async () => {
    build();
    return {};
  });
  if (run.error) throw run.error;
  return run.resources.filter((r) => !r.type.startsWith("dot-ai-gateway:"));
}

function platformArgs(namespace: string): SharedGatewayArgs {
  return {
    namespace,
    gatewayName: "cluster-gateway",
    gatewayClassName: "eg",
    allowedRoutes: "Selector",
    routeNamespaces: ["dot-ai"],
    tls: { domain: "example.com", clusterIssuer: "letsencrypt", secretName: "wildcard-tls" },
  };
}

function appArgs(namespace: string): DotAiArgs {
  return {
    namespace,
    chart: "test/charts/dot-ai-2.2.2.tgz",
    chartVersion: "2.2.2",
    chartIsLocal: true,
    settings: {
      releaseName: namespace,
      hostname: `${namespace}.example.com`,
      aiProvider: "anthropic",
      timeouts: { request: "3600s", backendRequest: "3600s" },
      gateway: { pattern: "reference", gatewayName: "cluster-gateway", gatewayNamespace: "gateway-system" },
    },
    apiKeys: { anthropic: "sk-test" },
    tokenRotation: "0",
  };
}

describe("components", () => {
  it("name every child after the component, so two of a kind in one stack do not collide", async () => {
    const children = await childrenOf(() => {
      new SharedGateway("edge", platformArgs("edge-system"));
      new SharedGateway("internal", platformArgs("internal-system"));
      new DotAi("team-a", appArgs("team-a"));
      new DotAi("team-b", appArgs("team-b"));
    });
    // Namespace, Certificate, redirect route, Gateway, ReferenceGrant; Namespace, password, Secret, Release.
    assert.strictEqual(children.length, 18);
    const keys = children.map((r) => `${r.type}::${r.name}`);
    assert.strictEqual(new Set(keys).size, keys.length, `duplicate child: ${keys.join(", ")}`);
    for (const [component, count] of [
      ["edge", 5],
      ["internal", 5],
      ["team-a", 4],
      ["team-b", 4],
    ] as const) {
      assert.strictEqual(children.filter((r) => r.name.startsWith(`${component}-`)).length, count, component);
    }
  });

  it("take hand edits of the Secret and the shared Gateway back (server-side apply with force)", async () => {
    const children = await childrenOf(() => {
      new SharedGateway("platform", platformArgs("gateway-system"));
      new DotAi("dot-ai", appArgs("dot-ai"));
    });
    for (const type of [TYPES.secret, TYPES.gateway]) {
      const annotations = children.find((r) => r.type === type)?.inputs.metadata.annotations ?? {};
      assert.strictEqual(annotations["pulumi.com/patchForce"], "true", type);
    }
  });

  it("alias a child to its earlier name only where the name changed", () => {
    assert.deepStrictEqual(earlierName("platform-gateway", SHARED_GATEWAY_PREVIOUS_NAMES.gateway), [
      { name: "shared-gateway" },
    ]);
    // Component `dot-ai` derives exactly the Secret's earlier name: nothing to alias.
    assert.deepStrictEqual(earlierName("dot-ai-secrets", DOT_AI_PREVIOUS_NAMES.secret), []);
    // Same name, other type (the ReferenceGrant across bundle versions): still an alias.
    assert.deepStrictEqual(earlierName("x", "x", "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant"), [
      { name: "x", type: "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant" },
    ]);
  });

  it("keep the Gateway API bundle on destroy unless told otherwise: its release and the admission policy that guards it", async () => {
    const name = "safe-upgrades.gateway.networking.k8s.io";
    const objects: ManifestObject[] = [
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "gateways.gateway.networking.k8s.io" },
        spec: { group: "gateway.networking.k8s.io", names: { kind: "Gateway" } },
      },
      { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name } },
    ];
    const args = { objects, chartPath: "./chart", release: { name: "crds", namespace: "kube-system" } };
    const retained = await childrenOf(() => new GatewayApiCrds("crds", args));
    assert.deepStrictEqual(
      retained.map((r) => [r.name, r.retainOnDelete]),
      [
        [name, true],
        ["crds-release", true],
      ],
    );
    const deleted = await childrenOf(() => new GatewayApiCrds("crds", { ...args, retainOnDelete: false }));
    assert.deepStrictEqual(
      deleted.map((r) => r.retainOnDelete),
      [false, false],
    );
  });
});

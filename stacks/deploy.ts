import * as pulumi from "@pulumi/pulumi";

import { DotAi } from "../components/app";
import { ChartSettings, GatewayWiring } from "../components/chart-values";
import { createdGatewayName } from "../components/chart-contract";
import { GatewayApiCrds } from "../components/crds";
import { gatewayApiVersions } from "../components/gateway-api";
import { SharedGateway } from "../components/platform";
import { ApiKeys, CreationConfig, ReferenceConfig, StackConfig } from "./config";
import { ApiNeed, loadGatewayApiBundle } from "./crd-manifest";
import { kubernetesProvider } from "./kubernetes-provider";
import { checkQdrantStorage } from "./storage-check";

/** What a deployed stack reports, whichever pattern it uses. */
export interface Deployment {
  gatewayName: string;
  gatewayNamespace: string;
  /** Known only for the shared Gateway, whose status Pulumi tracks. */
  gatewayAddress?: pulumi.Output<string>;
  app: DotAi;
}

/** Wires the stack's components for its mode: the reference or the creation pattern. */
export async function deploy(config: StackConfig, apiKeys: ApiKeys): Promise<Deployment> {
  // Both before any resource is registered: a bundled Qdrant that can never get a volume stops
  // the program here, in seconds, instead of in Helm's 10-minute timeout.
  const [objects] = await Promise.all([
    config.crds.install ? loadGatewayApiBundle(config.crds, apiNeeds(config)) : undefined,
    checkQdrantStorage(config.app),
  ]);
  const opts: pulumi.ComponentResourceOptions = { providers: [kubernetesProvider()] };
  const crds = objects
    ? new GatewayApiCrds("gateway-api-crds", { objects, retainOnDelete: config.crds.retainOnDelete }, opts)
    : undefined;
  return config.mode === "reference"
    ? deployReference(config, apiKeys, opts, crds)
    : deployCreation(config, apiKeys, opts, crds);
}

/** The Gateway API kinds this stack creates (itself or through the chart), at the versions its bundle serves. */
function apiNeeds(config: StackConfig): ApiNeed[] {
  const v = gatewayApiVersions(config.crds.version);
  const needs = [
    { kind: "Gateway", version: v.gateway },
    { kind: "HTTPRoute", version: v.httpRoute },
  ];
  return config.mode === "reference" ? [...needs, { kind: "ReferenceGrant", version: v.referenceGrant }] : needs;
}

/** prod: the platform's shared Gateway, and dot-ai's HTTPRoute attached to it. */
function deployReference(
  config: ReferenceConfig,
  apiKeys: ApiKeys,
  opts: pulumi.ComponentResourceOptions,
  crds?: GatewayApiCrds,
): Deployment {
  const shared = config.sharedGateway;
  const platform = new SharedGateway(
    "platform",
    {
      namespace: shared.namespace,
      gatewayName: shared.name,
      gatewayClassName: shared.className,
      allowedRoutes: shared.allowedRoutes,
      routeNamespaces: [config.app.namespace],
      waitForProgrammed: shared.waitForProgrammed,
      waitTimeoutSeconds: shared.waitTimeoutSeconds,
      referenceGrantVersion: gatewayApiVersions(config.crds.version).referenceGrant,
      tls: shared.tls && {
        domain: shared.tls.domain,
        clusterIssuer: shared.tls.clusterIssuer,
        secretName: shared.tls.secretName,
        waitForReady: shared.tls.waitForReady,
      },
      crds: crds?.resources,
    },
    opts,
  );
  const app = deployApp(
    config,
    apiKeys,
    opts,
    { pattern: "reference", gatewayName: platform.gatewayName, gatewayNamespace: platform.gatewayNamespace },
    platform.routeNamespaceLabels,
    [platform.gateway],
  );
  return {
    gatewayName: platform.gatewayName,
    gatewayNamespace: platform.gatewayNamespace,
    gatewayAddress: platform.address,
    app,
  };
}

/** dev: the chart creates its own Gateway, `<release>-http`, next to dot-ai. */
function deployCreation(
  config: CreationConfig,
  apiKeys: ApiKeys,
  opts: pulumi.ComponentResourceOptions,
  crds?: GatewayApiCrds,
): Deployment {
  const created = config.createdGateway;
  const app = deployApp(
    config,
    apiKeys,
    opts,
    {
      pattern: "creation",
      className: created.className,
      annotations: created.annotations,
      https: created.tls && { secretName: created.tls.secretName },
    },
    {},
    crds?.resources ?? [],
  );
  return { gatewayName: createdGatewayName(config.app.releaseName), gatewayNamespace: config.app.namespace, app };
}

function deployApp(
  config: StackConfig,
  apiKeys: ApiKeys,
  opts: pulumi.ComponentResourceOptions,
  gateway: GatewayWiring,
  namespaceLabels: Record<string, string>,
  after: pulumi.Resource[],
): DotAi {
  const app = config.app;
  const settings: ChartSettings = {
    releaseName: app.releaseName,
    hostname: config.hostname,
    aiProvider: app.aiProvider,
    aiModel: app.aiModel,
    qdrantUrl: app.qdrantUrl,
    timeouts: app.timeouts,
    gateway,
  };
  return new DotAi(
    "dot-ai",
    {
      namespace: app.namespace,
      namespaceLabels,
      chart: app.chart,
      chartVersion: app.chartVersion,
      chartIsLocal: app.chartIsLocal,
      settings,
      apiKeys,
      tokenRotation: app.tokenRotation,
      after,
    },
    opts,
  );
}

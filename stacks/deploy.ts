import * as pulumi from "@pulumi/pulumi";

import { DotAi, DotAiArgs } from "../components/app";
import { ChartSettings, GatewayWiring } from "../components/chart-values";
import { createdGatewayName } from "../components/chart-contract";
import { GatewayApiCrds } from "../components/crds";
import { gatewayApiVersions } from "../components/gateway-api";
import { SharedGateway, SharedGatewayArgs } from "../components/platform";
import {
  ApiKeys,
  AppStackConfig,
  Migration,
  CombinedConfig,
  CrdConfig,
  CreationConfig,
  PlatformFacts,
  PlatformStackConfig,
  ReferenceConfig,
  SharedGatewayConfig,
  StackConfig,
} from "./config";
import { BUNDLE_RELEASE } from "./bundle-chart";
import { resolvePlatform } from "./platform-reference";
import { loadGatewayApiBundle } from "./crd-manifest";
import { ApiNeed } from "../cluster/crd-precheck";
import { allChecks } from "./errors";
import { kubernetesProvider } from "./kubernetes-provider";
import { ReleaseFacts, checkHelmRelease } from "../cluster/release-check";
import { AdoptedRelease, checkMigration } from "../cluster/migration-check";
import { AWAIT_TIMEOUT_SECONDS } from "../components/await";
import { checkQdrantStorage } from "../cluster/storage-check";
import { measured } from "./timing";

/** What a deployed stack reports, whichever role and pattern it has. */
export interface Deployment {
  gatewayName: string;
  gatewayNamespace: string;
  /** Known only for the shared Gateway, whose status Pulumi tracks. */
  gatewayAddress?: pulumi.Output<string>;
  /** Absent on a platform stack. */
  app?: DotAi;
  /** Present on a platform stack. */
  platform?: SharedGateway;
  /** On an app stack: the Gateway it attached to, as checked. */
  platformFacts?: PlatformFacts;
}

/** The release's registration: its description, whether to import it, and a migration's part. */
function releaseArgs(
  facts: AppFacts,
  migration: Migration | undefined,
  gateway: { name: string; namespace: string },
  timeoutSeconds = AWAIT_TIMEOUT_SECONDS,
): Pick<DotAiArgs, "releaseDescription" | "importRelease" | "migration"> {
  const adopted = facts.adopted;
  return {
    releaseDescription: facts.release.description,
    // A release named by migrateFrom is deployed, or the migration check has stopped the program.
    importRelease: facts.release.adopt,
    ...(migration && adopted
      ? {
          migration: {
            token: pulumi.secret(adopted.token),
            ingress: adopted.ingress,
            values: adopted.values,
            phase: migration.phase,
            gateway,
            timeoutSeconds,
          },
        }
      : {}),
  };
}

/** Wires the stack's components for its role and pattern. */
export async function deploy(config: StackConfig, apiKeys: ApiKeys): Promise<Deployment> {
  if (config.role === "app") return deployAppStack(config, apiKeys);
  // All before any resource is registered: a bundled Qdrant that can never get a volume stops
  // the program here, in seconds, instead of in Helm's 10-minute timeout, and a release left
  // pending by an interrupted run with the fix instead of Helm's "another operation is in progress".
  const [bundle, , appFacts] = await allChecks([
    config.crds.install ? loadGatewayApiBundle(config.crds, apiNeeds(config)) : undefined,
    config.role === "combined" ? measured("Qdrant storage check", () => checkQdrantStorage(config.app)) : undefined,
    config.role === "combined" ? checkRelease(config, config.https) : undefined,
  ]);
  const opts: pulumi.ComponentResourceOptions = { providers: [kubernetesProvider()] };
  const crds = bundle
    ? new GatewayApiCrds(
        "gateway-api-crds",
        {
          objects: bundle.objects,
          chartPath: bundle.chartPath,
          release: BUNDLE_RELEASE,
          retainOnDelete: config.crds.retainOnDelete,
          adopt: bundle.adopt,
          importRelease: bundle.importRelease,
        },
        opts,
      )
    : undefined;
  if (config.role === "platform") return deployPlatformStack(config, opts, crds);
  const facts = appFacts as AppFacts;
  return config.mode === "reference"
    ? deployReference(config, apiKeys, opts, facts, crds)
    : deployCreation(config, apiKeys, opts, facts, crds);
}

/** What the checks before deploying found about the app's release. */
interface AppFacts {
  release: ReleaseFacts;
  /** What is kept of a release taken over (`migrateFrom`). */
  adopted?: AdoptedRelease;
}

/**
 * The Helm release check and, for a stack taking a release over, the migration check (which reads
 * the deployed revision the first one found).
 */
async function checkRelease(config: CombinedConfig | AppStackConfig, https: boolean): Promise<AppFacts> {
  const app = config.app;
  const migration = app.migration;
  const release = await measured("Helm release check", () =>
    checkHelmRelease({ ...app, adopting: migration !== undefined }),
  );
  if (!migration) return { release };
  const adopted = await measured("migration check", () =>
    checkMigration(
      {
        migration,
        hostname: config.hostname,
        https,
        apiKeyProviders: app.apiKeyProviders,
        chartVersion: app.chartVersion,
      },
      release.deployed,
    ),
  );
  return { release, adopted };
}

/** The Gateway API kinds this stack creates (itself or through the chart), at the versions its bundle serves. */
function apiNeeds(config: CombinedConfig | PlatformStackConfig): ApiNeed[] {
  const v = gatewayApiVersions(config.crds.version);
  const needs = [
    { kind: "Gateway", version: v.gateway },
    { kind: "HTTPRoute", version: v.httpRoute },
  ];
  return config.mode === "reference" ? [...needs, { kind: "ReferenceGrant", version: v.referenceGrant }] : needs;
}

/**
 * The shared Gateway, as the platform component builds it from the stack's settings, after the
 * bundle. A protected Gateway waits for the whole bundle: it then sits above everything else of the
 * platform in the graph, so `pulumi destroy` meets the protection before it drops anything from
 * the state (a resource of the bundle nothing depends on would go first). Unprotected, it waits for
 * the release, which holds every CRD (and comes after the admission policy).
 */
function sharedGateway(
  shared: SharedGatewayConfig,
  crds: CrdConfig,
  routeNamespaces: string[],
  bundle: GatewayApiCrds | undefined,
  protect: boolean,
  opts: pulumi.ComponentResourceOptions,
): SharedGateway {
  const dependsOn = protect ? bundle?.resources : bundle && [bundle.release];
  return new SharedGateway("platform", sharedGatewayArgs(shared, crds, routeNamespaces, protect), {
    ...opts,
    dependsOn: dependsOn ?? [],
  });
}

function sharedGatewayArgs(
  shared: SharedGatewayConfig,
  crds: CrdConfig,
  routeNamespaces: string[],
  protect: boolean,
): SharedGatewayArgs {
  return {
    namespace: shared.namespace,
    gatewayName: shared.name,
    gatewayClassName: shared.className,
    allowedRoutes: shared.allowedRoutes,
    routeNamespaces,
    waitForProgrammed: shared.waitForProgrammed,
    waitTimeoutSeconds: shared.waitTimeoutSeconds,
    referenceGrantVersion: gatewayApiVersions(crds.version).referenceGrant,
    tls: shared.tls && {
      domain: shared.tls.domain,
      clusterIssuer: shared.tls.clusterIssuer,
      secretName: shared.tls.secretName,
      waitForReady: shared.tls.waitForReady,
    },
    plaintextHttp: shared.plaintextHttp,
    protect,
  };
}

/** A platform stack: the shared Gateway that app stacks attach to, protected from `pulumi destroy`. */
function deployPlatformStack(
  config: PlatformStackConfig,
  opts: pulumi.ComponentResourceOptions,
  crds?: GatewayApiCrds,
): Deployment {
  const platform = sharedGateway(
    config.sharedGateway,
    config.crds,
    config.routeNamespaces,
    crds,
    config.protectGateway,
    opts,
  );
  if (!config.protectGateway) {
    pulumi.log.warn(
      `dot-ai-gateway:protectGateway is false: \`pulumi destroy\` on this stack deletes Gateway ${config.sharedGateway.namespace}/${config.sharedGateway.name} and its namespace, and with them the entry point of every app stack attached to it. Before destroying, check which apps are attached: kubectl get namespaces -l ${
        Object.entries(platform.routeNamespaceLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",") || "<label>"
      }; kubectl get gateway -n ${config.sharedGateway.namespace} ${config.sharedGateway.name} -o jsonpath='{.status.listeners[*].attachedRoutes}'`,
      platform,
    );
  }
  return {
    gatewayName: platform.gatewayName,
    gatewayNamespace: platform.gatewayNamespace,
    gatewayAddress: platform.address,
    platform,
  };
}

/**
 * An app stack: the Gateway is found (platform stack outputs) and checked before any resource is
 * registered; then only the app's own namespace, token, Secret and release.
 */
async function deployAppStack(config: AppStackConfig, apiKeys: ApiKeys): Promise<Deployment> {
  const [facts, , appFacts] = await allChecks([
    measured("platform stack's outputs", () => resolvePlatform(config)),
    measured("Qdrant storage check", () => checkQdrantStorage(config.app)),
    checkRelease(config, !config.plaintextHttp),
  ]);
  const opts: pulumi.ComponentResourceOptions = { providers: [kubernetesProvider()] };
  const app = deployApp(
    config,
    apiKeys,
    opts,
    { pattern: "reference", gatewayName: facts.gatewayName, gatewayNamespace: facts.gatewayNamespace },
    { ...config.namespaceLabels, ...facts.routeNamespaceLabels },
    [],
    releaseArgs(appFacts, config.app.migration, { name: facts.gatewayName, namespace: facts.gatewayNamespace }),
  );
  return { gatewayName: facts.gatewayName, gatewayNamespace: facts.gatewayNamespace, app, platformFacts: facts };
}

/** prod: the platform's shared Gateway, and dot-ai's HTTPRoute attached to it. */
function deployReference(
  config: ReferenceConfig,
  apiKeys: ApiKeys,
  opts: pulumi.ComponentResourceOptions,
  facts: AppFacts,
  crds?: GatewayApiCrds,
): Deployment {
  // A combined stack is destroyed as a whole: its Gateway is never protected.
  const platform = sharedGateway(config.sharedGateway, config.crds, [config.app.namespace], crds, false, opts);
  const app = deployApp(
    config,
    apiKeys,
    opts,
    { pattern: "reference", gatewayName: platform.gatewayName, gatewayNamespace: platform.gatewayNamespace },
    platform.routeNamespaceLabels,
    [platform.gateway],
    releaseArgs(
      facts,
      config.app.migration,
      { name: platform.gatewayName, namespace: platform.gatewayNamespace },
      config.sharedGateway.waitTimeoutSeconds,
    ),
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
  facts: AppFacts,
  crds?: GatewayApiCrds,
): Deployment {
  const created = config.createdGateway;
  const gatewayName = createdGatewayName(config.app.releaseName);
  const app = deployApp(
    config,
    apiKeys,
    opts,
    {
      pattern: "creation",
      className: created.className,
      annotations: created.annotations,
      https: created.tls && { secretName: created.tls.secretName },
      plaintextHttp: created.plaintextHttp,
    },
    {},
    // The bundle's release: Helm has waited for each of its CRDs to be Established.
    crds ? [crds.release] : [],
    {
      awaitCreatedGateway: created.waitForProgrammed
        ? { name: gatewayName, className: created.className, timeoutSeconds: created.waitTimeoutSeconds }
        : undefined,
      certificate: created.tls && { ...created.tls, timeoutSeconds: created.waitTimeoutSeconds },
      httpsRedirectOn: created.tls && !created.plaintextHttp ? gatewayName : undefined,
      // Config refuses migrateFrom in this pattern: only the stack's own release is ever imported.
      releaseDescription: facts.release.description,
      importRelease: facts.release.adopt,
    },
  );
  return { gatewayName, gatewayNamespace: config.app.namespace, app };
}

function deployApp(
  config: CombinedConfig | AppStackConfig,
  apiKeys: ApiKeys,
  opts: pulumi.ComponentResourceOptions,
  gateway: GatewayWiring,
  namespaceLabels: Record<string, string>,
  after: pulumi.Resource[],
  extra: Pick<
    DotAiArgs,
    "awaitCreatedGateway" | "certificate" | "httpsRedirectOn" | "releaseDescription" | "importRelease" | "migration"
  > = {},
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
      agentAccess: app.agentAccess,
      ...extra,
    },
    { ...opts, dependsOn: after },
  );
}

import * as k8s from "@pulumi/kubernetes";
import * as kx from "@pulumi/kubernetesx";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import { AgentAccess, AgentServiceAccount } from "./agent-access";
import { FORCE_APPLY } from "./apply";
import { ROUTE_ACCEPTED, explainSlowWait, gatewayWaitMessage, waitPatch } from "./await";
import { bridgeHttpRoute } from "./bridge-route";
import { issuedCertificate } from "./certificate";
import { ChartGatewayHttpsRedirect } from "./https-redirect";
import { ApiKeyProvider, SECRETS_NAME, bridgeRouteName, chartFullname } from "./chart-contract";
import { dependenciesOf, earlierName, ownRegistration } from "./names";
import { AdoptedValues, ChartSettings, chartValues, secretData, secretsRevision } from "./chart-values";
import { GATEWAY_API_GROUP } from "./gateway-api";
import { KEEP_POLICY } from "./crds";

/**
 * Plain strings where a value names objects at registration time (the namespace, the chart and its
 * version, which shape the values); `Input`s where a value only flows into a resource.
 */
export interface DotAiArgs {
  /** Namespace the application team owns (created here). */
  readonly namespace: string;
  /**
   * Labels for that namespace, e.g. what the shared Gateway's route selector asks for.
   * @default {}
   */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** `oci://…` reference, local chart directory or packaged chart (`.tgz`). */
  readonly chart: string;
  /**
   * The chart's version: the one to pull for a remote chart, the one its Chart.yaml declares for a
   * local chart (not passed to Helm then). The values are shaped for it.
   */
  readonly chartVersion: string;
  /** Whether `chart` is a local directory or package, whose version Helm reads from the chart itself. */
  readonly chartIsLocal: boolean;
  /** What the chart's values say: release name, hostname, AI provider, Gateway wiring. */
  readonly settings: ChartSettings;
  /** Provider API keys (secrets); only the ones given are written to the Secret. */
  readonly apiKeys: Readonly<Partial<Record<ApiKeyProvider, pulumi.Input<string>>>>;
  /** Change to generate a new auth token; the token is stable while this stays the same. */
  readonly tokenRotation: pulumi.Input<string>;
  /**
   * The Gateway the chart creates (creation pattern), to wait for after the release until its
   * controller has set it `Programmed`, as the shared Gateway is waited for: Helm's own wait does
   * not judge Gateways.
   * @default undefined (nothing waits for a Gateway)
   */
  readonly awaitCreatedGateway?: CreatedGatewayWait;
  /**
   * HTTPS for the chart's own Gateway (creation pattern): a Certificate for the hostname, in the app
   * namespace, issued into the Secret the chart's HTTPS listener serves.
   * @default undefined (no Certificate: in the reference pattern the shared Gateway has one)
   */
  readonly certificate?: AppCertificate;
  /**
   * The chart's Gateway (creation pattern) answers plain HTTP for the hostname with a redirect to
   * HTTPS and nothing else (see ChartGatewayHttpsRedirect); its name.
   * @default undefined (no port-80 listener of the program's)
   */
  readonly httpsRedirectOn?: string;
  /**
   * What the agent may do in the cluster; anything but `chart` runs the pods as a ServiceAccount of
   * the program's (AgentServiceAccount) instead of the chart's cluster-wide one.
   * @default { kind: "chart" }
   */
  readonly agentAccess?: AgentAccess;
  /**
   * The release's Helm description. A new one is how a repair goes through the engine: the release
   * upgrades, and Helm creates every object of the release that was deleted.
   * @default undefined (Helm's own)
   */
  readonly releaseDescription?: string;
  /**
   * Register the release with `import` (`<namespace>/<release>`): it is installed already, by plain
   * `helm` (`migrateFrom`) or by this stack's own first `up`, killed before the state recorded it.
   * The engine ignores the import while the state holds the release.
   * @default false
   */
  readonly importRelease?: boolean;
  /**
   * A release taken over from outside the program (`migrateFrom`): the token it serves is kept
   * instead of a generated one, and per phase a bridge route opens the Gateway path while its
   * Ingress serves, or the chart's own route is waited for. See docs/migration.md.
   * @default undefined (no migration)
   */
  readonly migration?: AppMigration;
}

/**
 * What an adopted release's move to Gateway API needs of the component: what the release keeps of
 * its values, and the phase. `both`: the Ingress serves and the bridge route opens the Gateway path
 * first; `gateway`: the chart's route serves, waited for until Accepted (the bridge route, no
 * longer registered, is deleted after that).
 */
export interface AppMigration extends Readonly<AdoptedValues> {
  /** The token the adopted release serves (a secret). */
  readonly token: pulumi.Input<string>;
  /** The Gateway the routes attach to. */
  readonly gateway: { readonly name: string; readonly namespace: string };
  /** How long `pulumi up` waits for a route to be Accepted. */
  readonly timeoutSeconds: number;
}

/** The creation pattern's certificate: which Secret, from which ClusterIssuer, and whether to wait for it. */
export interface AppCertificate {
  readonly secretName: string;
  readonly clusterIssuer: string;
  readonly waitForReady: boolean;
  readonly timeoutSeconds: number;
}

/** The namespace of the creation pattern's redirect route, next to the app's (config checks its length). */
export function httpsRedirectNamespace(appNamespace: string): string {
  return `${appNamespace}-https-redirect`;
}

/** Which chart-created Gateway to wait for, and for how long. */
export interface CreatedGatewayWait {
  readonly name: string;
  /** For the message shown while it waits: only this class's controller sets `Programmed`. */
  readonly className: string;
  readonly timeoutSeconds: number;
}

/**
 * The names children of a DotAi had before they were named from the component's name; aliased so
 * that stacks deployed then are updated in place, not replaced (a replaced token would be a new
 * token, a replaced release a reinstall).
 */
export const DOT_AI_PREVIOUS_NAMES = {
  authToken: "auth-token",
  secret: "dot-ai-secrets",
  release: "dot-ai",
} as const;

/**
 * What an application team owns: its namespace, the auth token and API keys in a Secret, and the
 * dot-ai Helm release whose HTTPRoute joins a Gateway.
 */
export class DotAi extends pulumi.ComponentResource {
  /** The app's namespace. */
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly namespaceName: string;
  /** The Secret holding the auth token and the AI provider keys. */
  public readonly secret: kx.Secret;
  /** dot-ai's Helm release. */
  public readonly release: k8s.helm.v3.Release;
  public readonly releaseName: string;
  /** The bearer token MCP clients send; a secret output. */
  public readonly authToken: pulumi.Output<string>;
  public readonly secretName: pulumi.Output<string>;
  public readonly releaseStatus: pulumi.Output<string>;
  /** The ServiceAccount the pods run as when the agent's reach is scoped (`agentAccess` not `chart`). */
  public readonly agent?: AgentServiceAccount;
  /** The creation pattern's Certificate for the chart's HTTPS listener. */
  public readonly certificate?: k8s.apiextensions.CustomResource;
  /** The creation pattern's port 80, redirecting to HTTPS. */
  public readonly httpsRedirect?: ChartGatewayHttpsRedirect;

  constructor(name: string, args: DotAiArgs, opts?: pulumi.ComponentResourceOptions) {
    // Args stay out of the component's own state: they carry the API keys.
    super("dot-ai-gateway:app:DotAi", name, {}, ownRegistration(opts));
    this.namespaceName = args.namespace;
    this.releaseName = args.settings.releaseName;

    const names = {
      namespace: `${name}-namespace`,
      authToken: `${name}-auth-token`,
      secret: `${name}-secrets`,
      release: `${name}-release`,
      gatewayProgrammed: `${name}-gateway-programmed`,
      agent: `${name}-agent`,
      certificate: `${name}-certificate`,
      httpsRedirect: `${name}-https-redirect`,
      bridgeRoute: `${name}-bridge-route`,
      routeAccepted: `${name}-route-accepted`,
    };
    const namespace = (this.namespace = new k8s.core.v1.Namespace(
      names.namespace,
      { metadata: { name: args.namespace, labels: { ...args.namespaceLabels } } },
      // Its earlier name was the namespace's own.
      { parent: this, aliases: earlierName(names.namespace, args.namespace) },
    ));

    const migration = args.migration;
    // An adopted release keeps the token its clients already have; otherwise 48 characters from
    // [A-Za-z0-9], about 285 bits of entropy and safe in an HTTP header.
    const tokenValue = migration
      ? pulumi.output(migration.token)
      : new random.RandomPassword(
          names.authToken,
          { length: 48, special: false, keepers: { rotation: args.tokenRotation } },
          { parent: this, aliases: earlierName(names.authToken, DOT_AI_PREVIOUS_NAMES.authToken) },
        ).result;
    this.authToken = pulumi.secret(tokenValue);

    const data = pulumi
      .all([tokenValue, pulumi.output(args.apiKeys)])
      .apply(([tokenValue, keys]) => secretData(tokenValue, keys as Partial<Record<ApiKeyProvider, string>>));

    const secret = (this.secret = new kx.Secret(
      names.secret,
      {
        metadata: {
          name: SECRETS_NAME,
          namespace: namespace.metadata.name,
          // An adopted release may have rendered a Secret of this very name; Helm deletes what
          // leaves its manifest unless the live object says `keep`, so this one stays.
          annotations: { ...FORCE_APPLY, ...(migration ? KEEP_POLICY : {}) },
        },
        stringData: pulumi.secret(data),
      },
      { parent: this, aliases: earlierName(names.secret, DOT_AI_PREVIOUS_NAMES.secret) },
    ));
    this.secretName = secret.metadata.name;

    const fullname = chartFullname(args.settings.releaseName);
    const access = args.agentAccess ?? { kind: "chart" };
    if (access.kind !== "chart") {
      this.agent = new AgentServiceAccount(
        names.agent,
        {
          namespace: namespace.metadata.name,
          name: `${fullname}-agent`,
          // Cluster-scoped names must not meet another namespace's release of the same name.
          clusterScopedPrefix: `${args.namespace}-${fullname}-agent`,
          access,
        },
        { parent: this },
      );
    }

    const tls = args.certificate;
    if (tls) {
      this.certificate = issuedCertificate(
        names.certificate,
        {
          namespace: namespace.metadata.name,
          namespaceName: args.namespace,
          name: tls.secretName,
          secretName: tls.secretName,
          dnsNames: [args.settings.hostname],
          clusterIssuer: tls.clusterIssuer,
          waitForReady: tls.waitForReady,
          timeoutSeconds: tls.timeoutSeconds,
        },
        { parent: this },
      );
    }

    // While the Ingress serves, the Gateway path opens first; the release's change waits for it,
    // so that a rollback from the gateway phase never leaves the host without a route.
    const bridge =
      migration?.phase === "both"
        ? bridgeHttpRoute(
            names.bridgeRoute,
            {
              namespace: namespace.metadata.name,
              name: bridgeRouteName(fullname),
              serviceName: fullname,
              hostname: args.settings.hostname,
              gateway: migration.gateway,
              timeouts: args.settings.timeouts,
              timeoutSeconds: migration.timeoutSeconds,
            },
            // The Gateway it attaches to, and the CRD of its kind.
            { parent: this, dependsOn: dependenciesOf(opts) },
          )
        : undefined;

    // The digest is derived from secrets, so Pulumi marks it secret; it reveals nothing, and
    // keeping it visible keeps the release's values readable in previews.
    const revision = pulumi.unsecret(data.apply(secretsRevision));
    const release = (this.release = new k8s.helm.v3.Release(
      names.release,
      {
        // Set explicitly: an auto-suffixed name would rename every object the chart derives from it.
        name: args.settings.releaseName,
        chart: args.chart,
        version: args.chartIsLocal ? undefined : args.chartVersion,
        namespace: namespace.metadata.name,
        createNamespace: false,
        description: args.releaseDescription,
        values: revision.apply((r) =>
          chartValues(
            args.chartVersion,
            {
              ...args.settings,
              serviceAccountName: this.agent?.name,
              ...(migration
                ? { adopted: { ingress: migration.ingress, values: migration.values, phase: migration.phase } }
                : {}),
            },
            r,
          ),
        ),
        timeout: 600,
      },
      // The Deployment reads the Secret by name (up to 1.5.x every reference is optional, so it
      // would start without authentication; from 1.6.0 the token is required and the pod would
      // not start), so the Secret must exist first; the graph cannot see that link. So must the
      // ServiceAccount the pods run as (with its bindings), and the certificate the chart's HTTPS
      // listener serves. And what the component was told to wait for (the Gateway the HTTPRoute
      // attaches to, the CRDs of its kinds).
      {
        parent: this,
        dependsOn: [
          secret,
          ...(this.agent ? [this.agent] : []),
          ...(this.certificate ? [this.certificate] : []),
          ...(bridge ? [bridge] : []),
          ...dependenciesOf(opts),
        ],
        aliases: earlierName(names.release, DOT_AI_PREVIOUS_NAMES.release),
        ...(args.importRelease ? { import: `${args.namespace}/${args.settings.releaseName}` } : {}),
      },
    ));
    this.releaseStatus = release.status.apply((s) => s.status);

    if (migration?.phase === "gateway") {
      // The bridge route, no longer registered, is deleted once everything registered is done:
      // waiting here for the chart's own route to be Accepted keeps the host routed throughout.
      const wait = waitPatch(ROUTE_ACCEPTED, migration.timeoutSeconds);
      new k8s.apiextensions.CustomResourcePatch(
        names.routeAccepted,
        {
          apiVersion: `${GATEWAY_API_GROUP}/v1`,
          kind: "HTTPRoute",
          metadata: { name: fullname, namespace: namespace.metadata.name, annotations: wait.annotations },
        },
        // Retained: it goes on a rollback, after Helm deleted the route, and the provider refuses
        // to delete a Patch whose object is gone. Left behind, its annotation waits for nothing.
        { parent: this, dependsOn: [release], retainOnDelete: true, ...wait.options },
      );
    }

    const awaited = args.awaitCreatedGateway;
    if (awaited) {
      // The chart owns the Gateway; this Patch (server-side apply, with a field manager of its own)
      // only adds the annotation that makes the provider wait for its condition, and removes it
      // again when it is deleted. It waits when it is created, i.e. when the stack first installs
      // the chart's Gateway, and again only if the Gateway's name changes or the last wait failed.
      const wait = waitPatch("condition=Programmed", awaited.timeoutSeconds);
      const programmed = new k8s.apiextensions.CustomResourcePatch(
        names.gatewayProgrammed,
        {
          apiVersion: `${GATEWAY_API_GROUP}/v1`,
          kind: "Gateway",
          metadata: { name: awaited.name, namespace: namespace.metadata.name, annotations: wait.annotations },
        },
        { parent: this, dependsOn: [release], ...wait.options },
      );
      explainSlowWait({
        resource: programmed,
        on: this,
        after: [release],
        timeoutSeconds: awaited.timeoutSeconds,
        message: gatewayWaitMessage(args.namespace, awaited.name, awaited.className, awaited.timeoutSeconds),
      });
    }

    if (args.httpsRedirectOn) {
      if (!tls) {
        throw new pulumi.ResourceError(
          `DotAi ${name}: httpsRedirectOn needs certificate, the HTTPS listener the redirect points to`,
          this,
        );
      }
      this.httpsRedirect = new ChartGatewayHttpsRedirect(
        names.httpsRedirect,
        {
          gateway: { name: args.httpsRedirectOn, namespace: namespace.metadata.name },
          hostname: args.settings.hostname,
          redirectNamespace: httpsRedirectNamespace(args.namespace),
          tlsSecretName: tls.secretName,
          chartVersion: args.chartVersion,
        },
        { parent: this, dependsOn: [release] },
      );
    }

    this.registerOutputs({
      namespace: this.namespaceName,
      releaseName: this.releaseName,
      authToken: this.authToken,
      secretName: this.secretName,
      releaseStatus: this.releaseStatus,
    });
  }
}

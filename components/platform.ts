import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { FORCE_APPLY } from "./apply";
import { AWAIT_TIMEOUT_SECONDS, awaitAnnotations, explainSlowWait, gatewayWaitMessage } from "./await";
import { issuedCertificate } from "./certificate";
import { GatewayListener, HTTP_LISTENER, httpsListener, httpsRedirectRoute } from "./https-redirect";
import { dependenciesOf, earlierName, ownRegistration } from "./names";
import { AllowedRoutesFrom, GATEWAY_API_GROUP as GATEWAY_API, ReferenceGrantVersion } from "./gateway-api";

/** Label that admits a namespace's routes to the shared Gateway when allowedRoutes is Selector. */
export const ROUTE_NAMESPACE_LABEL = "dot-ai-gateway/shared-gateway";

interface GatewayStatus {
  addresses?: { type?: string; value?: string }[];
}

/**
 * Plain strings where a value names objects or labels at registration time (the namespace, the
 * Gateway's name, the listeners' policy); `Input`s where a value only flows into a resource.
 */
export interface SharedGatewayArgs {
  /** Namespace the platform owns for the Gateway (created here), e.g. `gateway-system`. */
  readonly namespace: string;
  /** Name of the shared Gateway, e.g. `cluster-gateway`. */
  readonly gatewayName: string;
  /** The GatewayClass, i.e. which Gateway controller programs this Gateway, e.g. `eg`. */
  readonly gatewayClassName: pulumi.Input<string>;
  /**
   * Which namespaces may attach routes to the listeners. This, not the ReferenceGrant, is what
   * lets the app's HTTPRoute attach. With `Selector`, namespaces need `routeNamespaceLabels`.
   */
  readonly allowedRoutes: AllowedRoutesFrom;
  /**
   * Namespaces whose HTTPRoutes are meant to use this Gateway, named in the ReferenceGrant (a
   * record; attachment is `allowedRoutes`). A ReferenceGrant names each namespace, it has no
   * selector. Empty: no ReferenceGrant.
   */
  readonly routeNamespaces: readonly string[];
  /**
   * `protect` the Gateway and its namespace (whose deletion would delete the Gateway), so that
   * `pulumi destroy` refuses, before deleting anything, while app stacks may be attached.
   * @default false
   */
  readonly protect?: boolean;
  /**
   * Wait until the Gateway is `Programmed` (needs a Gateway controller).
   * @default true
   */
  readonly waitForProgrammed?: boolean;
  /**
   * How long each wait may take before `pulumi up` fails, in seconds.
   * @default 600
   */
  readonly waitTimeoutSeconds?: number;
  /**
   * The ReferenceGrant version the cluster's Gateway API serves (see gateway-api.ts).
   * @default "v1"
   */
  readonly referenceGrantVersion?: ReferenceGrantVersion;
  /**
   * HTTPS on 443 with a cert-manager wildcard certificate for `*.<domain>` and `<domain>`.
   * @default undefined: HTTP on 80 only
   */
  readonly tls?: {
    readonly domain: pulumi.Input<string>;
    readonly clusterIssuer: pulumi.Input<string>;
    /** The Secret cert-manager writes the certificate to, in `namespace`. */
    readonly secretName: pulumi.Input<string>;
    /**
     * Wait until the Certificate is `Ready` (needs cert-manager).
     * @default true
     */
    readonly waitForReady?: boolean;
  };
  /**
   * Let the plain-HTTP listener (port 80) admit application routes as the HTTPS one does, so that
   * every app on this Gateway is served in clear too. Without `tls` it must be true: HTTP is all
   * there is then.
   * @default false: port 80 admits only routes from the Gateway's own namespace, where this
   * component's redirect to HTTPS is the only one
   */
  readonly plaintextHttp?: boolean;
}

/**
 * The names children of a SharedGateway had before they were named from the component's name;
 * aliased so that stacks deployed then are updated in place, not replaced.
 */
export const SHARED_GATEWAY_PREVIOUS_NAMES = {
  certificate: "wildcard-certificate",
  gateway: "shared-gateway",
  referenceGrant: "route-reference-grant",
} as const;

/**
 * What a platform team owns: the Gateway namespace, the wildcard certificate, one shared Gateway
 * for every application, and the ReferenceGrant that records which namespaces use it.
 */
export class SharedGateway extends pulumi.ComponentResource {
  public readonly gatewayName: string;
  public readonly gatewayNamespace: string;
  /** Labels an application namespace needs for its routes to be admitted. */
  public readonly routeNamespaceLabels: Record<string, string>;
  /** Which namespaces the listeners admit routes from. */
  public readonly allowedRoutes: AllowedRoutesFrom;
  /** The first address the Gateway controller published, or "pending". */
  public readonly address: pulumi.Output<string>;
  public readonly gateway: k8s.apiextensions.CustomResource;
  /** The Gateway's namespace. */
  public readonly namespace: k8s.core.v1.Namespace;
  /** The wildcard Certificate behind the HTTPS listener, when there is one. */
  public readonly certificate?: k8s.apiextensions.CustomResource;
  /** The ReferenceGrant that records which namespaces use the Gateway, when it names any. */
  public readonly referenceGrant?: k8s.apiextensions.CustomResource;
  /** Whether the plain-HTTP listener admits application routes, i.e. serves them in clear. */
  public readonly plaintextHttp: boolean;
  /** The route that answers every plain-HTTP request with a redirect to HTTPS, when there is one. */
  public readonly httpsRedirect?: k8s.apiextensions.CustomResource;

  constructor(name: string, args: SharedGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dot-ai-gateway:platform:SharedGateway", name, {}, ownRegistration(opts));
    this.gatewayName = args.gatewayName;
    this.gatewayNamespace = args.namespace;
    this.allowedRoutes = args.allowedRoutes;
    this.routeNamespaceLabels = args.allowedRoutes === "Selector" ? { [ROUTE_NAMESPACE_LABEL]: args.gatewayName } : {};
    const protect = args.protect ?? false;
    this.plaintextHttp = args.plaintextHttp ?? false;
    if (!args.tls && !this.plaintextHttp) {
      throw new pulumi.ResourceError(
        `SharedGateway ${name}: without tls the plain-HTTP listener is the only one, so it serves the apps in clear; say so with plaintextHttp: true`,
        this,
      );
    }
    const timeout = args.waitTimeoutSeconds ?? AWAIT_TIMEOUT_SECONDS;

    // What the component was told to wait for: the CRDs of the kinds it creates.
    const crds = dependenciesOf(opts);

    const names = {
      namespace: `${name}-namespace`,
      certificate: `${name}-certificate`,
      gateway: `${name}-gateway`,
      referenceGrant: `${name}-reference-grant`,
      httpsRedirect: `${name}-https-redirect`,
    };
    const namespace = (this.namespace = new k8s.core.v1.Namespace(
      names.namespace,
      { metadata: { name: args.namespace } },
      // Its earlier name was the namespace's own.
      { parent: this, protect, aliases: earlierName(names.namespace, args.namespace) },
    ));

    const certificate = (this.certificate =
      args.tls &&
      issuedCertificate(
        names.certificate,
        {
          namespace: namespace.metadata.name,
          namespaceName: args.namespace,
          name: "wildcard",
          secretName: args.tls.secretName,
          dnsNames: [pulumi.interpolate`*.${args.tls.domain}`, args.tls.domain],
          clusterIssuer: args.tls.clusterIssuer,
          waitForReady: args.tls.waitForReady ?? true,
          timeoutSeconds: timeout,
        },
        { parent: this, aliases: earlierName(names.certificate, SHARED_GATEWAY_PREVIOUS_NAMES.certificate) },
      ));

    const allowedRoutes: GatewayListener["allowedRoutes"] = {
      namespaces:
        args.allowedRoutes === "Selector"
          ? { from: "Selector", selector: { matchLabels: this.routeNamespaceLabels } }
          : { from: args.allowedRoutes },
    };
    // An HTTPRoute that names no listener (the dot-ai chart's never does) attaches to every listener
    // that admits its namespace, so port 80 admits the apps only when they may be served in clear.
    const listeners: GatewayListener[] = [
      {
        name: HTTP_LISTENER,
        protocol: "HTTP",
        port: 80,
        allowedRoutes: this.plaintextHttp ? allowedRoutes : { namespaces: { from: "Same" } },
      },
    ];
    if (args.tls) {
      listeners.push(httpsListener({ secretName: args.tls.secretName, allowedRoutes }));
    }

    // A ReferenceGrant governs cross-namespace *references* (backendRefs, certificateRefs); Gateway
    // API does not consult it when a route in another namespace attaches to a Gateway; that is
    // decided by the listeners' allowedRoutes above. This grant records, in the Gateway's own
    // namespace, which namespaces' HTTPRoutes are meant to use this Gateway; it grants nothing that
    // allowedRoutes does not already allow.
    const grantVersion = args.referenceGrantVersion ?? "v1";
    const otherGrantVersion = grantVersion === "v1" ? "v1beta1" : "v1";
    let grant: k8s.apiextensions.CustomResource | undefined;
    if (args.routeNamespaces.length > 0) {
      const otherType = `kubernetes:${GATEWAY_API}/${otherGrantVersion}:ReferenceGrant`;
      const previousName = SHARED_GATEWAY_PREVIOUS_NAMES.referenceGrant;
      grant = new k8s.apiextensions.CustomResource(
        names.referenceGrant,
        {
          apiVersion: `${GATEWAY_API}/${grantVersion}`,
          kind: "ReferenceGrant",
          metadata: { name: `${args.gatewayName}-routes`, namespace: namespace.metadata.name },
          spec: {
            from: args.routeNamespaces.map((ns) => ({ group: GATEWAY_API, kind: "HTTPRoute", namespace: ns })),
            to: [{ group: GATEWAY_API, kind: "Gateway", name: args.gatewayName }],
          },
        },
        {
          parent: this,
          dependsOn: crds,
          // The same object under the other version (moving between bundles updates it in place),
          // and under its earlier name, in either version.
          aliases: [
            { type: otherType },
            ...earlierName(names.referenceGrant, previousName),
            ...earlierName(names.referenceGrant, previousName, otherType),
          ],
        },
      );
      this.referenceGrant = grant;
    }

    if (args.tls && !this.plaintextHttp) {
      this.httpsRedirect = httpsRedirectRoute(
        names.httpsRedirect,
        {
          namespace: namespace.metadata.name,
          routeName: `${args.gatewayName}-https-redirect`,
          gateway: { name: args.gatewayName, namespace: namespace.metadata.name },
          sectionName: HTTP_LISTENER,
        },
        { parent: this, dependsOn: crds },
      );
    }

    this.gateway = new k8s.apiextensions.CustomResource(
      names.gateway,
      {
        apiVersion: `${GATEWAY_API}/v1`,
        kind: "Gateway",
        metadata: {
          name: args.gatewayName,
          namespace: namespace.metadata.name,
          annotations: {
            ...awaitAnnotations(args.waitForProgrammed ?? true, "Programmed", timeout),
            ...FORCE_APPLY,
          },
        },
        spec: { gatewayClassName: args.gatewayClassName, listeners },
        // A CustomResource exposes as outputs only the fields it was given; naming `status` makes
        // the live status (with the addresses the Gateway controller assigns) an output too.
        status: undefined,
      },
      // The Gateway names its CRD and its certificate Secret only by plain strings, so the graph
      // cannot see either dependency: without the CRDs it cannot be created, and without the
      // issued certificate its HTTPS listener would not be Programmed. It needs neither the
      // ReferenceGrant nor the redirect route, but sits above them all the same: `pulumi destroy`
      // deletes first what nothing depends on, so a grant or route beside a protected Gateway
      // would be deleted before the protection stopped the destroy. (The route, created first,
      // is admitted once the Gateway's port-80 listener admits its namespace.)
      {
        parent: this,
        protect,
        dependsOn: [
          ...crds,
          ...(certificate ? [certificate] : []),
          ...(grant ? [grant] : []),
          ...(this.httpsRedirect ? [this.httpsRedirect] : []),
        ],
        aliases: earlierName(names.gateway, SHARED_GATEWAY_PREVIOUS_NAMES.gateway),
      },
    );

    if (args.waitForProgrammed ?? true) {
      explainSlowWait({
        resource: this.gateway,
        on: this,
        after: certificate ? [certificate] : [],
        timeoutSeconds: timeout,
        message: gatewayWaitMessage(args.namespace, args.gatewayName, args.gatewayClassName, timeout),
      });
    }

    const status = (this.gateway as unknown as { status: pulumi.Output<GatewayStatus | undefined> }).status;
    this.address = status.apply((s) => s?.addresses?.[0]?.value ?? "pending");
    this.registerOutputs({
      gatewayName: this.gatewayName,
      gatewayNamespace: this.gatewayNamespace,
      allowedRoutes: this.allowedRoutes,
      routeNamespaceLabels: this.routeNamespaceLabels,
      plaintextHttp: this.plaintextHttp,
      address: this.address,
    });
  }
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { awaitAnnotations, certificateWaitMessage, explainSlowWait } from "./await";

export interface IssuedCertificateArgs {
  /** The Certificate's namespace, as a component's Namespace resource gives it. */
  readonly namespace: pulumi.Input<string>;
  /** The same namespace's name, for the message a slow wait prints. */
  readonly namespaceName: string;
  /** The Certificate's own name. */
  readonly name: string;
  /** The Secret cert-manager writes the certificate to. */
  readonly secretName: pulumi.Input<string>;
  readonly dnsNames: pulumi.Input<string>[];
  readonly clusterIssuer: pulumi.Input<string>;
  /** Wait until cert-manager sets it `Ready`, explaining the wait when it takes long. */
  readonly waitForReady: boolean;
  readonly timeoutSeconds: number;
}

/**
 * A cert-manager Certificate from a ClusterIssuer, as the shared Gateway's wildcard and the chart
 * Gateway's hostname certificate both are; `opts.parent` is the component whose warning explains a
 * slow wait.
 */
export function issuedCertificate(
  name: string,
  args: IssuedCertificateArgs,
  opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): k8s.apiextensions.CustomResource {
  const certificate = new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name: args.name,
        namespace: args.namespace,
        annotations: awaitAnnotations(args.waitForReady, "Ready", args.timeoutSeconds),
      },
      spec: {
        secretName: args.secretName,
        dnsNames: args.dnsNames,
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: args.clusterIssuer },
      },
    },
    opts,
  );
  if (args.waitForReady) {
    explainSlowWait({
      resource: certificate,
      on: opts.parent,
      after: [],
      timeoutSeconds: args.timeoutSeconds,
      message: certificateWaitMessage(args.namespaceName, args.name, args.clusterIssuer, args.timeoutSeconds),
    });
  }
  return certificate;
}

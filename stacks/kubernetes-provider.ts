import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * The Kubernetes provider every component uses.
 *
 * By default pulumi-kubernetes replaces a Secret whose data changes, and because the Secret keeps
 * its name the old one is deleted before the new one exists. dot-ai's Deployment reads the token
 * with `optional: true`, so a pod starting in that window would serve without authentication.
 * `enableSecretMutable` makes a token rotation or key change an in-place update instead.
 *
 * An explicit provider does not read the `kubernetes:*` stack config by itself, so the cluster
 * selection settings users know from the default provider are passed on; without them the
 * provider uses KUBECONFIG or ~/.kube/config and its current context, as the default one would.
 */
export function kubernetesProvider(): k8s.Provider {
  const config = new pulumi.Config("kubernetes");
  return new k8s.Provider("kubernetes", {
    kubeconfig: config.getSecret("kubeconfig"),
    context: config.get("context"),
    cluster: config.get("cluster"),
    enableSecretMutable: true,
  });
}

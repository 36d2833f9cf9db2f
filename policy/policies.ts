/**
 * The policies of the pack, in one list: index.ts serves them, the unit tests call them directly
 * (importing index.ts would start the analyzer's gRPC server).
 */
import type { Policies } from "@pulumi/policy";

import * as clusterWideWrite from "./dot-ai-cluster-wide-write";
import * as sseTimeouts from "./dot-ai-sse-timeouts";
import * as noSecrets from "./helm-values-no-secrets";
import * as noPlaintext from "./mcp-no-plaintext-http";
import * as pinned from "./pinned-chart-and-images";
import * as realIssuer from "./prod-certificate-real-issuer";
import * as noAllNamespaces from "./prod-gateway-no-all-namespaces";

export const PACK_NAME = "dot-ai-gateway-guardrails";

export const policies: Policies = [
  noPlaintext.policy,
  noSecrets.policy,
  noAllNamespaces.policy,
  sseTimeouts.policy,
  clusterWideWrite.policy,
  pinned.policy,
  realIssuer.policy,
];

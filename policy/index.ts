/**
 * The dot-ai-gateway guardrails as a Pulumi CrossGuard policy pack: the program's own safety rules,
 * enforced whatever a stack's config says. Run with `pulumi preview --policy-pack <this directory>`
 * (or the `analyzer` executable next to this file); see README.md.
 */
import { PolicyPack } from "@pulumi/policy";

import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description: "Guardrails for the dot-ai MCP server behind the Kubernetes Gateway API",
  enforcementLevel: "advisory",
  policies,
});

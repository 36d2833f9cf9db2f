import * as pulumi from "@pulumi/pulumi";

/**
 * The alias that keeps a child deployed under an earlier name (before children were named from
 * their component's name) the same resource, updated in place rather than replaced. None when the
 * two names happen to be equal (e.g. component `dot-ai`'s `dot-ai-secrets`).
 */
export function earlierName(current: string, earlier: string, type?: string): pulumi.Alias[] {
  return current === earlier && type === undefined ? [] : [{ name: earlier, ...(type ? { type } : {}) }];
}

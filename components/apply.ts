/**
 * pulumi-kubernetes (v4): on a server-side apply conflict with another field manager, take the
 * fields over instead of failing. For objects this stack alone owns, a conflict only ever means a
 * hand edit (`kubectl edit`/`patch`) that `pulumi up` is meant to undo; without it the dry run of
 * `pulumi preview --refresh` fails on that very drift instead of showing it.
 */
export const FORCE_APPLY: Readonly<Record<string, string>> = { "pulumi.com/patchForce": "true" };

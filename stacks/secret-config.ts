/**
 * Whether a config value was stored with `--secret`.
 *
 * The Node.js language host passes the list of secret config keys to the program
 * (PULUMI_CONFIG_SECRET_KEYS), and the SDK's `runtime/config` module answers from it, but the
 * function is marked internal and left out of the type declarations. We need it to refuse API
 * keys stored in plaintext, so we load it untyped here, in one place, and fail loudly if a future
 * SDK drops it rather than silently accepting plaintext keys.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module without types, see above
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (fullKey: string) => boolean };

export function isSecretConfigKey(fullKey: string): boolean {
  if (typeof runtimeConfig.isConfigSecret !== "function") {
    throw new Error("@pulumi/pulumi no longer exposes runtime/config.isConfigSecret; update stacks/secret-config.ts");
  }
  return runtimeConfig.isConfigSecret(fullKey);
}

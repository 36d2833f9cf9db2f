import { loadConfig } from "./config";
import { deploy } from "./deploy";
import { StackOutputs, stackOutputs } from "./outputs";

/**
 * The whole program: configuration is validated before anything is registered, then the stack's
 * pattern is wired and its outputs returned.
 */
export async function program(): Promise<StackOutputs> {
  const { config, apiKeys } = loadConfig();
  const deployment = await deploy(config, apiKeys);
  return stackOutputs(config, deployment);
}

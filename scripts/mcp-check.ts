/**
 * `npm run sandbox:mcp -- [dev|prod]`: the official MCP TypeScript SDK's client, connected to a
 * sandbox stack with exactly its `mcpConfig` output (URL and Authorization header), through the
 * Gateway's data plane: the connection goes to the address the Gateway reports (loopback, checked),
 * TLS verified for the hostname against the sandbox's CA (LOCAL_CA_FILE). It initializes, lists the
 * tools and calls one. On Traefik sandboxes only; what answers is the dot-ai stand-in (test/standin),
 * which proves the path, not dot-ai.
 *
 * Needs the sandbox's environment (scripts/sandbox.sh sources its env.sh before running this).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";

import { connectMcp, parseMcpConfig, pinnedAgent } from "../test/e2e/gateway-client";

function sh(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${res.stderr || res.error?.message}`);
  return res.stdout;
}

async function main(): Promise<void> {
  const [stack = "dev"] = process.argv.slice(2);
  const project = process.env.DOT_AI_GATEWAY_PROJECT;
  const caFile = process.env.LOCAL_CA_FILE;
  if (!project || !caFile || !fs.existsSync(caFile))
    throw new Error("no Traefik sandbox here: run `npm run sandbox -- dev --controller traefik` first");
  const output = (name: string, secret = false) =>
    sh("pulumi", [
      "-C",
      project,
      "stack",
      "output",
      name,
      "--stack",
      stack,
      ...(secret ? ["--show-secrets"] : []),
    ]).trim();
  const endpoint = parseMcpConfig(output("mcpConfig", true));
  const [gateway, namespace] = [output("gatewayName"), output("gatewayNamespace")];
  const address = sh("kubectl", [
    "get",
    "gateway",
    gateway,
    "-n",
    namespace,
    "-o",
    "jsonpath={.status.addresses[0].value}",
  ]).trim();
  console.log(`${endpoint.url} through Gateway ${namespace}/${gateway} at ${address}, TLS verified with ${caFile}`);
  const agent = pinnedAgent({ address, ca: fs.readFileSync(caFile, "utf8") });
  const client = await connectMcp(endpoint, agent);
  try {
    const server = client.getServerVersion();
    console.log(`initialize: ${server?.name} ${server?.version}`);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    console.log(`tools/list: ${tools.join(", ")}`);
    const info = await client.callTool({ name: "standin-info", arguments: {} });
    const text = (info.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join(" ");
    console.log(`tools/call standin-info: ${text}`);
  } finally {
    await client.close();
    await agent.close();
  }
}

main().catch((error: unknown) => {
  console.error(`mcp check failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

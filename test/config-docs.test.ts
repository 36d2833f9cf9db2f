import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { AI_PROVIDERS } from "../components/chart-contract";
import { CONFIG_KEYS } from "../stacks/config";

/**
 * docs/configuration.md is written by hand; this keeps it and the keys the program accepts
 * (CONFIG_KEYS, which also refuses every other key) from drifting apart in either direction.
 */
describe("docs/configuration.md", () => {
  const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "configuration.md"), "utf8");
  const rows = doc.split("\n").filter((line) => line.startsWith("| `"));
  /** Keys in the first column of the settings tables, and credential keys in the providers table. */
  const documented = new Set<string>();
  for (const row of rows) {
    const [first, second] = row.split("|").slice(1, 3);
    const providers = new Set(Object.keys(AI_PROVIDERS));
    const firstKey = /^\s*`([A-Za-z]+)`\s*$/.exec(first)?.[1];
    if (firstKey && !providers.has(firstKey)) documented.add(firstKey);
    for (const [, credential] of second?.matchAll(/`([A-Za-z]+(?:ApiKey|Token))`/g) ?? []) documented.add(credential);
  }

  it("documents every key the program accepts", () => {
    const missing = Object.keys(CONFIG_KEYS).filter((k) => !documented.has(k));
    assert.deepStrictEqual(missing, [], "keys the program reads but the reference does not describe");
  });

  it("documents no key the program refuses", () => {
    const unknown = [...documented].filter((k) => !(k in CONFIG_KEYS));
    assert.deepStrictEqual(unknown, [], "keys the reference describes but the program refuses as unknown");
  });
});

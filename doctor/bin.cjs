#!/usr/bin/env node
// The `dot-ai-doctor` command: runs doctor/cli.ts through ts-node (transpile only; `npm test`
// type-checks it), so that no build step is needed. CommonJS on purpose: it must load before
// ts-node is registered.
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- see above */
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
require("./cli.ts")
  .main(process.argv.slice(2))
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(`doctor failed: ${(error && error.stack) || error}`);
      process.exitCode = 1;
    },
  );

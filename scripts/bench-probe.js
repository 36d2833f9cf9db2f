// Preloaded into the Node.js process of a benched `pulumi` run (NODE_OPTIONS=--require ...), to
// mark when the program's entry module starts and finishes loading, and to collect the steps the
// program measures before registering (stacks/timing.ts); scripts/bench.sh hands the marks to
// toolchain/bench/trace-summary. Never loaded outside the bench.
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

const out = process.env.DOT_AI_GATEWAY_BENCH_PROBE;
if (out) {
  const marks = { nodeStart: performance.timeOrigin };
  const entries = new Set([process.cwd(), path.join(process.cwd(), "index.ts"), path.join(process.cwd(), "index")]);
  const load = Module._load;
  Module._load = function (request, ...rest) {
    const entry = marks.entryStart === undefined && entries.has(request);
    if (entry) marks.entryStart = performance.timeOrigin + performance.now();
    try {
      return load.call(this, request, ...rest);
    } finally {
      if (entry) marks.entryLoaded = performance.timeOrigin + performance.now();
    }
  };
  process.on("exit", () => {
    // The steps the program measured before registering (stacks/timing.ts), in epoch milliseconds.
    marks.steps = performance
      .getEntriesByType("measure")
      .filter((m) => m.name.startsWith("dot-ai-gateway: "))
      .map((m) => ({
        name: m.name.slice("dot-ai-gateway: ".length),
        start: performance.timeOrigin + m.startTime,
        duration: m.duration,
      }));
    fs.writeFileSync(out, JSON.stringify(marks));
  });
}

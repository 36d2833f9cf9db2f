// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", "toolchain/"] },
  eslint.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: "readonly", __dirname: "readonly", console: "readonly" } },
  },
  {
    // Tests look up what they just asserted exists.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    // The bench's preload runs as plain CommonJS inside Node.js (scripts/bench-probe.js).
    files: ["scripts/**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", performance: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);

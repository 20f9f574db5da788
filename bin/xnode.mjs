#!/usr/bin/env node
// `xnode …`, and `kubectl xnode …` when linked onto PATH as kubectl-xnode
// (kubectl runs any kubectl-<name> executable as a plugin). Runs the built
// dist/main.js when there is one (`npm run build`, the container image),
// else the TypeScript source through tsx (a checkout).
import { existsSync } from "node:fs";

const built = new URL("../dist/main.js", import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/main.ts");
}

#!/usr/bin/env node
// Fails at once, saying what to do, when the Node.js running the project is
// older than package.json's engines.node asks for (npm only warns).
import { readFileSync } from "node:fs";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const needed = Number(/(\d+)/.exec(engines.node)?.[1]);
const running = Number(process.versions.node.split(".")[0]);
if (running < needed) {
  console.error(
    `xnode needs Node.js ${needed} or newer (engines.node "${engines.node}"), but ${process.execPath} is v${process.versions.node}.\n` +
      `Run scripts/install-prerequisites.sh (it installs Node.js ${needed} from the npm registry into /usr/local/bin), then open a new shell or run: hash -r`,
  );
  process.exit(2);
}

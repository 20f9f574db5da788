// Process entry point: `xnode <command> …`.

// The project's supported runtime (package.json engines): fail at once on an
// older Node, before loading anything (client-node's undici throws on Node 20).
const NODE_MAJOR = 24;
const running = Number(process.versions.node.split(".")[0]);
if (running < NODE_MAJOR) {
  process.stderr.write(
    `xnode: needs Node.js ${NODE_MAJOR} or newer; ${process.execPath} is v${process.versions.node}. Run scripts/install-prerequisites.sh, or use the container image.\n`,
  );
  process.exit(2);
}
const { runCli } = await import("./cli.js");
process.exitCode = await runCli(process.argv.slice(2));

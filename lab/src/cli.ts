// npm run lab -- up <scenario.yaml> --kubeconfig <out> [--name NAME]
// npm run lab -- down <name> | down --all
// npm run lab -- list
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { destroyTopology, listLabPrefixes } from "./dataplane/topology.js";
import { LAB_PREFIX } from "./lab.js";
import { loadScenario } from "./scenario.js";
import { isAlive, listRecords, readRecord, removeRecord, stateDir, type LabRecord } from "./state.js";

const USAGE = `usage:
  npm run lab -- up <scenario.yaml> --kubeconfig <out-file> [--name NAME]
  npm run lab -- down <name>
  npm run lab -- down --all
  npm run lab -- list`;

const UP_TIMEOUT_MS = 60_000;

function fail(message: string): never {
  console.error(`lab: ${message}`);
  process.exit(2);
}

async function up(scenarioFile: string, kubeconfig: string, name?: string): Promise<void> {
  const scenario = await loadScenario(scenarioFile).catch((err: Error) => fail(err.message));
  const labName = name ?? scenario.name;
  const existing = await readRecord(labName);
  if (existing && isAlive(existing.pid)) fail(`a lab named "${labName}" is already running (pid ${existing.pid}); run: npm run lab -- down ${labName}`);

  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  const logFile = `${stateDir()}/${labName}.log`;
  const log = openSync(logFile, "w");
  const daemon = fileURLToPath(new URL("./daemon.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), daemon, "--scenario", resolve(scenarioFile), "--name", labName, "--kubeconfig", resolve(kubeconfig)],
    { detached: true, stdio: ["ignore", log, log] },
  );
  closeSync(log);
  child.unref();
  let exited = false;
  child.on("exit", () => (exited = true));

  const deadline = Date.now() + UP_TIMEOUT_MS;
  let rec: LabRecord | undefined;
  while (Date.now() < deadline) {
    rec = await readRecord(labName);
    if (rec && rec.pid === child.pid && rec.status !== "starting") break;
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!rec || rec.status !== "ready" || rec.pid !== child.pid) {
    const why = rec && rec.pid === child.pid && rec.error ? rec.error : `see ${logFile}`;
    if (!exited && child.pid) process.kill(child.pid, "SIGTERM");
    fail(`lab "${labName}" did not become ready: ${why}`);
  }
  const nodes = scenario.synthetic ? `${scenario.synthetic.nodes} synthetic (node-0000 …)` : scenario.nodes.map((n) => n.name).join(", ");
  console.log(`lab ${labName} ready in ${rec.readyMs} ms: nodes ${nodes}; API ${rec.url}; kubeconfig ${resolve(kubeconfig)}`);
}

async function stopRecord(rec: LabRecord): Promise<void> {
  if (isAlive(rec.pid)) {
    process.kill(rec.pid, "SIGTERM");
    const deadline = Date.now() + 15_000;
    while (isAlive(rec.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(rec.pid)) process.kill(rec.pid, "SIGKILL");
  }
  // After a crash the daemon could not clean up: do it from the record.
  if (rec.prefix) await destroyTopology(rec.prefix);
  await removeRecord(rec.name);
}

async function down(name: string | undefined, all: boolean): Promise<void> {
  if (all) {
    const recs = await listRecords();
    await Promise.all(recs.map(stopRecord));
    const orphans = (await listLabPrefixes()).filter((p) => p.startsWith(LAB_PREFIX));
    for (const prefix of orphans) await destroyTopology(prefix);
    console.log(`lab: removed ${recs.length} lab(s)${orphans.length ? ` and ${orphans.length} orphaned namespace set(s)` : ""}`);
    return;
  }
  if (!name) fail(USAGE);
  const rec = await readRecord(name);
  if (!rec) fail(`no lab named "${name}" (running: ${(await listRecords()).map((r) => r.name).join(", ") || "none"})`);
  await stopRecord(rec);
  console.log(`lab: ${name} removed`);
}

async function list(): Promise<void> {
  const recs = await listRecords();
  if (recs.length === 0) console.log("no labs running");
  for (const r of recs) console.log(`${r.name}\t${r.status}\t${isAlive(r.pid) ? "alive" : "dead"}\t${r.url ?? "-"}\t${r.kubeconfigPath}`);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { kubeconfig: { type: "string" }, name: { type: "string" }, all: { type: "boolean" }, help: { type: "boolean", short: "h" } },
});
const [command, arg] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  process.exit(command || values.help ? 0 : 2);
}
if (command === "up") {
  if (!arg || !values.kubeconfig) fail(`up needs a scenario file and --kubeconfig\n${USAGE}`);
  await up(arg, values.kubeconfig, values.name);
} else if (command === "down") {
  await down(arg, values.all ?? false);
} else if (command === "list") {
  await list();
} else {
  fail(`unknown command "${command}"\n${USAGE}`);
}

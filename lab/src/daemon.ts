// The background lab process behind `npm run lab -- up`: it owns the API
// server and the flannel imitation for as long as the lab lives, and tears
// everything down on SIGTERM/SIGINT.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Lab } from "./lab.js";
import { loadScenario } from "./scenario.js";
import { removeRecord, writeRecord, type LabRecord } from "./state.js";

const { values } = parseArgs({
  options: { scenario: { type: "string" }, name: { type: "string" }, kubeconfig: { type: "string" } },
});
const scenarioFile = values.scenario!;
const kubeconfigPath = values.kubeconfig!;
const started = Date.now();
const base: LabRecord = {
  name: values.name!,
  pid: process.pid,
  scenarioFile,
  kubeconfigPath,
  status: "starting",
  startedAt: new Date(started).toISOString(),
};

let lab: Lab | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await lab?.stop().catch((err: Error) => console.error(`lab teardown: ${err.message}`));
    await removeRecord(base.name);
  }
  process.exit(code);
}

process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));

try {
  await writeRecord(base);
  const scenario = await loadScenario(scenarioFile);
  lab = await Lab.start(scenario, { name: base.name });
  await writeFile(kubeconfigPath, lab.kubeconfig, { mode: 0o600 });
  await writeRecord({
    ...base,
    prefix: lab.prefix,
    status: "ready",
    url: lab.url,
    token: lab.token,
    adminToken: lab.adminToken,
    readyMs: Date.now() - started,
  });
  console.log(`lab ${base.name} ready in ${Date.now() - started} ms at ${lab.url}`);
} catch (err) {
  await writeRecord({ ...base, status: "failed", error: (err as Error).message });
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
}

// npm run demo: the seed scenario (two VirtualBox-style nodes whose flannel
// picked the NAT interface) in the lab, checked by xnode, then torn down.
// Needs root for network namespaces; no Slack workspace or cluster.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../src/cli.js";
import { Lab } from "../test/lab/lab.js";
import { loadScenario } from "../test/lab/scenario.js";

const scenarioFile = process.argv[2] ?? fileURLToPath(new URL("../test/lab/scenarios/seed-virtualbox-nat.yaml", import.meta.url));

if (process.getuid?.() !== 0) {
  console.error("demo: the lab builds network namespaces and needs root (run it as root, e.g. with sudo)");
  process.exit(2);
}

const scenario = await loadScenario(scenarioFile);
console.error(`demo: bringing up lab "${scenario.name}" (${scenario.nodes.length} nodes)…`);
const started = Date.now();
const lab = await Lab.start(scenario, { name: `demo-${scenario.name}` });
const dir = await mkdtemp(join(tmpdir(), "xnode-demo-"));
let code = 2;
try {
  console.error(`demo: lab ready in ${Date.now() - started} ms; running: xnode check lab --kubeconfig <lab kubeconfig>`);
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, lab.kubeconfig, { mode: 0o600 });
  code = await runCli(["check", "lab", "--kubeconfig", kubeconfig]);
  console.error(`demo: xnode exited ${code} (0 healthy, 1 problems found, 2 error)`);
} finally {
  await lab.stop();
  await rm(dir, { recursive: true, force: true });
  console.error("demo: lab removed");
}
// The demo succeeds when xnode produced a report; finding problems is the point.
process.exit(code === 2 ? 1 : 0);

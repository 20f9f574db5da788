// npm run bench: how long the lab and a check take on this machine. Prints
// numbers; asserts nothing (targets: lab up for 3 nodes < 5 s).
import { runCheck } from "../src/check/run-check.js";
import { createKubeClient } from "../src/kube/kube-client.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab } from "../test/lab/lab.js";
import { loadScenario } from "../test/lab/scenario.js";

const ROUNDS = Number(process.argv[2] ?? 5);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0]} ms, median ${s[Math.floor(s.length / 2)]} ms, max ${s[s.length - 1]} ms (n=${s.length})`;
};
const dir = await mkdtemp(join(tmpdir(), "xnode-bench-"));
for (const name of ["healthy-three-nodes", "seed-virtualbox-nat", "kvm-nat-three-nodes"]) {
  const scenario = await loadScenario(`test/lab/scenarios/${name}.yaml`);
  const up: number[] = [];
  const check: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t = Date.now();
    const lab = await Lab.start(scenario, { name: `bench-${name}` });
    up.push(Date.now() - t);
    const kc = join(dir, `${name}.kubeconfig`);
    await writeFile(kc, lab.kubeconfig);
    t = Date.now();
    await runCheck(createKubeClient({ cluster: name, kubeconfig: kc }), { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 });
    check.push(Date.now() - t);
    t = Date.now();
    await lab.stop();
    down.push(Date.now() - t);
  }
  console.log(`${name} (${scenario.nodes.length} nodes)`);
  console.log(`  lab up:   ${stats(up)}`);
  console.log(`  check:    ${stats(check)}`);
  console.log(`  lab down: ${stats(down)}`);
}
await rm(dir, { recursive: true, force: true });
console.log(`rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB`);

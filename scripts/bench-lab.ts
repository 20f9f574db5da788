// npm run bench: how long the lab and a check take on this machine. Prints
// numbers; asserts nothing (targets: lab up for 3 nodes < 5 s).
import { runCheck } from "../src/check/run-check.js";
import { createKubeClient } from "../src/kube/kube-client.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab, loadScenario, parseScenario, scenarioPath } from "@xnode/lab";

const ROUNDS = Number(process.argv[2] ?? 5);
/** a healthy flat cluster of `n` nodes, for scale (the Slack grid shows up to 20) */
function flatCluster(n: number) {
  return parseScenario({
    name: `flat-${n}`,
    networks: [{ name: "lan", cidr: "192.168.200.0/24", gateway: "192.168.200.1" }],
    nodes: Array.from({ length: n }, (_, i) => ({
      name: `n${i}`,
      podCIDR: `10.60.${i}.0/24`,
      interfaces: [{ name: "eth0", network: "lan", address: `192.168.200.${10 + i}/24`, defaultRoute: true }],
    })),
    flannel: { network: "10.60.0.0/16" },
  });
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0]} ms, median ${s[Math.floor(s.length / 2)]} ms, max ${s[s.length - 1]} ms (n=${s.length})`;
};
const dir = await mkdtemp(join(tmpdir(), "xnode-bench-"));
const scenarios = [
  ...(await Promise.all(["healthy-three-nodes", "seed-virtualbox-nat", "kvm-nat-three-nodes"].map((f) => loadScenario(scenarioPath(f))))),
  flatCluster(10),
  flatCluster(20),
];
for (const scenario of scenarios) {
  const name = scenario.name;
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

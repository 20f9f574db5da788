// npm run bench: how long the lab and a check take on this machine, and what
// packet-observed traces add (flat clusters whose network drops VXLAN, so no
// rule explains the failures until captures show where the packets stop).
// Prints numbers; asserts nothing (targets: lab up for 3 nodes < 5 s).
import { runCheck } from "../src/check/run-check.js";
import { createKubeClient } from "../src/kube/kube-client.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab, loadScenario, parseScenario, scenarioPath } from "@xnode/lab";

const ROUNDS = Number(process.argv[2] ?? 5);
/** a flat cluster of `n` nodes, for scale (the Slack grid shows up to 20); healthy unless the underlay drops VXLAN */
function flatCluster(n: number, underlayDrop = false) {
  return parseScenario({
    name: `flat-${n}${underlayDrop ? "-dropped" : ""}`,
    ...(underlayDrop ? { faults: [{ kind: "underlay-drop", network: "lan", proto: "udp", port: 8472 }] } : {}),
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
  flatCluster(3, true),
  flatCluster(10, true),
  flatCluster(20, true),
];
for (const scenario of scenarios) {
  const name = scenario.name;
  const up: number[] = [];
  const check: number[] = [];
  const down: number[] = [];
  const execs = { all: 0, trace: 0, traceBytes: 0, traces: 0 };
  for (let i = 0; i < ROUNDS; i++) {
    let t = Date.now();
    const lab = await Lab.start(scenario, { name: `bench-${name}` });
    up.push(Date.now() - t);
    const kc = join(dir, `${name}.kubeconfig`);
    await writeFile(kc, lab.kubeconfig);
    t = Date.now();
    const kube = createKubeClient({ cluster: name, kubeconfig: kc });
    // counts every exec, and the trace's own (captures and their pings) with the bytes they return
    const counted = {
      ...kube,
      exec: async (...args: Parameters<typeof kube.exec>) => {
        const r = await kube.exec(...args);
        const argv = args[1];
        execs.all++;
        if (argv[3] === "packet-capture" || (argv[0] === "ping" && argv.includes("0.2"))) {
          execs.trace++;
          execs.traceBytes += r.stdout.length + r.stderr.length;
        }
        return r;
      },
    };
    const { evidence } = await runCheck(counted, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 });
    execs.traces += evidence.traces?.length ?? 0;
    check.push(Date.now() - t);
    t = Date.now();
    await lab.stop();
    down.push(Date.now() - t);
  }
  console.log(`${name} (${scenario.nodes.length} nodes)`);
  console.log(`  lab up:   ${stats(up)}`);
  console.log(`  check:    ${stats(check)}`);
  console.log(`  lab down: ${stats(down)}`);
  const per = (x: number) => Math.round((x / ROUNDS) * 10) / 10;
  console.log(`  per check: ${per(execs.all)} execs; traced pairs ${per(execs.traces)}, their execs ${per(execs.trace)}, ${per(execs.traceBytes)} bytes`);
}
await rm(dir, { recursive: true, force: true });
console.log(`rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB`);

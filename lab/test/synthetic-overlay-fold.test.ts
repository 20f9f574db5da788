// A synthetic node answers `xnode-agent overlay` from the topology and its
// faults (src/synthetic/overlay-fold.ts) instead of folding every peer's
// entries. That shortcut must print, byte for byte, what the agent's real
// binary prints over the same node's tables as host-tools.ts renders them:
// unfolded, folded against the right expectation, and refused a wrong one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { tableReadingAgent, type TableReadingAgent } from "../src/dataplane/table-reading-agent.js";
import { parseScenario } from "../src/scenario.js";
import { planSyntheticCluster } from "../src/synthetic/cluster-plan.js";
import { fdbShow, neighShow, routeShow } from "../src/synthetic/host-tools.js";
import { NO_FAULTS, nodeFaults } from "../src/synthetic/node-faults.js";
import { overlayFold } from "../src/synthetic/overlay-fold.js";

let agent: TableReadingAgent;
before(async () => (agent = await tableReadingAgent()));
after(() => agent?.cleanup());

const faults = [
  { kind: "delete-route", node: "node-0001", to: "10.244.3.0/24" },
  { kind: "delete-route", node: "node-0001", to: "10.244.5.0/24" },
  { kind: "stale-fdb", node: "node-0002", peer: "node-0004" },
  { kind: "vtep-mac-change", node: "node-0003" },
  { kind: "drop-udp", node: "node-0004", port: 8472 },
  // its own pod CIDR's route
  { kind: "delete-route", node: "node-0005", to: "10.244.5.0/24" },
];

test("every node of a faulty synthetic cluster: the shortcut prints what the binary prints over the rendered tables", () => {
  const c = planSyntheticCluster(parseScenario({ name: "fold", synthetic: { nodes: 8 }, flannel: { network: "10.244.0.0/16" }, faults }));
  const byNode = nodeFaults(c);
  let folds = 0;
  for (const n of c.nodes) {
    const f = byNode.get(n.name) ?? NO_FAULTS;
    const tables = { route: routeShow(c, n, f), neigh: neighShow(c, n), fdb: fdbShow(c, n, f) };
    const real = (args: string[]) => agent.run(tables, ["overlay", ...args]);
    const plain = real([]);
    const { count, hash } = (JSON.parse(plain.stdout) as { found: { count: number; hash: string } }).found;
    const wrong = hash.replace(/^./, (d) => (d === "0" ? "1" : "0"));
    for (const args of [
      [],
      ["--expect", String(count), hash],
      ["--expect", String(count + 1), hash],
      ["--expect", String(count), wrong],
      ["--expect", "x", hash],
    ]) {
      assert.deepEqual(overlayFold(c, n, f, args), real(args), `${n.name} overlay ${args.join(" ")}`);
    }
    if ((JSON.parse(real(["--expect", String(count), hash]).stdout) as { folded: boolean }).folded) folds += 1;
  }
  assert.equal(folds, c.nodes.length, "every node folds against its own count and hash");
});

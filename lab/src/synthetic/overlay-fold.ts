// `xnode-agent overlay [--expect COUNT HASH]` on a synthetic node: what the
// agent's binary prints over the tables host-tools.ts renders, worked out
// from the topology and the node's faults instead of by rendering every
// peer's entries and folding them again (which would cost O(N) per node and
// O(N²) per check). Which peers fold, and the hash sum the binary would
// print, follow from the same faults the tables show: a deleted route leaves
// that peer's neighbour and FDB entry unfolded, a stale FDB entry changes
// that peer's tuple. test/synthetic-overlay-fold.test.ts compares this answer
// with the binary's over the rendered tables, byte for byte.
import type { SynthCluster, SynthNode } from "./cluster-plan.js";
import { fdbShow, flannelFdb, flannelNeighbour, flannelRoute, neighShow, routeShow } from "./host-tools.js";
import type { NodeFaults } from "./node-faults.js";

const MASK = (1n << 64n) - 1n;

/** xnode-agent.c's tuple_hash: FNV-1a 64 of "cidr gw mac ip", then splitmix64's finaliser. */
function tupleHash(cidr: string, gw: string, mac: string, ip: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from([cidr, gw, mac, ip].join(" "))) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & MASK;
  for (const [shift, factor] of [
    [30n, 0xbf58476d1ce4e5b9n],
    [27n, 0x94d049bb133111ebn],
  ] as const)
    h = ((h ^ (h >> shift)) * factor) & MASK;
  return h ^ (h >> 31n);
}

interface ClusterHashes {
  /** each node's tuple as every other node's tables hold it without faults */
  of: Map<SynthNode, bigint>;
  total: bigint;
  byCidr: Map<string, SynthNode>;
}

const hashes = new WeakMap<SynthCluster, ClusterHashes>();
function hashesOf(c: SynthCluster): ClusterHashes {
  let found = hashes.get(c);
  if (found) return found;
  const of = new Map(c.nodes.map((p) => [p, tupleHash(p.podCIDR, p.flannelIP, p.vtepMac, p.internalIP)]));
  found = { of, total: [...of.values()].reduce((a, h) => a + h, 0n), byCidr: new Map(c.nodes.map((p) => [p.podCIDR, p])) };
  hashes.set(c, found);
  return found;
}

const USAGE = "xnode-agent overlay: usage: xnode-agent overlay [--expect COUNT HASH], HASH in 16 hex digits\n";

export function overlayFold(c: SynthCluster, n: SynthNode, f: NodeFaults, args: readonly string[]): { stdout: string; stderr: string; exitCode: number } {
  const expecting = args.length === 3 && args[0] === "--expect" && /^\d{1,9}$/.test(args[1]!) && /^[0-9a-fA-F]{16}$/.test(args[2]!);
  if (args.length !== 0 && !expecting) return { stdout: "", stderr: USAGE, exitCode: 2 };
  const { of, total, byCidr } = hashesOf(c);
  // peers whose route is gone: their neighbour and FDB entries have no route to join
  const unrouted = [...f.deletedRoutes]
    .map((cidr) => byCidr.get(cidr))
    .filter((p): p is SynthNode => p !== undefined && p !== n)
    .sort((a, b) => a.index - b.index);
  let sum = total - of.get(n)! - unrouted.reduce((a, p) => a + of.get(p)!, 0n);
  for (const [name, dst] of f.staleFdb) {
    const p = c.byName.get(name);
    if (p && p !== n && !unrouted.includes(p)) sum += tupleHash(p.podCIDR, p.flannelIP, p.vtepMac, dst) - of.get(p)!;
  }
  const count = c.nodes.length - 1 - unrouted.length;
  const hash = (sum & MASK).toString(16).padStart(16, "0");
  const shapes = count > 0 ? 1 : 0;
  const folded = expecting && shapes === 1 && Number(args[1]) === count && args[2]!.toLowerCase() === hash;
  const dev = c.vxlanDevice;
  const parts = [`{"found":{"count":${count},"hash":"${hash}","shapes":${shapes}},"folded":${folded}`];
  if (folded) {
    const template = { route: flannelRoute(dev, "{cidr}", "{gw}"), neighbour: flannelNeighbour(dev, "{gw}", "{mac}"), fdb: flannelFdb(dev, "{mac}", "{ip}") };
    parts.push(`,"template":${JSON.stringify(template)}`);
    parts.push(`,"routes":${routeShow(c, n, f, [n])},"neighbours":${neighShow(c, n, unrouted)},"fdb":${fdbShow(c, n, f, unrouted)}}\n`);
  } else {
    parts.push(`,"routes":${routeShow(c, n, f)},"neighbours":${neighShow(c, n)},"fdb":${fdbShow(c, n, f)}}\n`);
  }
  return { stdout: parts.join(""), stderr: "", exitCode: 0 };
}

// The routes, neighbours and FDB entries in one read by the host agent's own
// binary, `xnode-agent overlay` (deploy/agent-image/xnode-agent.c). The agent
// joins each route via a gateway to that gateway's neighbour and that MAC's
// FDB entry, the only ones under their keys, into a tuple (cidr, gw, mac, ip)
// and a template (the three entries with those values as placeholders). It
// sums a 64-bit hash of every tuple; when all tuples share one template and
// their count and sum are what xnode expects from the cluster's leases, it
// leaves the folded entries out and prints the template once. Otherwise it
// prints the three tables as read. So a node whose entries follow its peers
// sends O(1) instead of three entries per peer, and a node whose entries do
// not sends everything, for the rules to read.
import { z } from "zod";
import type { FdbEntry, NeighbourEntry, RouteEntry } from "../model/index.js";
import { fdbEntryOf } from "./fdb.js";
import { jsonObjects } from "./json-fields.js";
import { neighbourOf } from "./neighbours.js";
import { parseJsonOutput, ProbeOutputError, type Probe } from "./probe.js";
import { routeOf } from "./routes.js";

const name = "overlay";

/** How many tuples the agent should find and their hash sum, in 16 hex digits. */
export interface FoldExpectation {
  count: number;
  hash: string;
}

export interface OverlayRead {
  found: { count: number; hash: string; shapes: number };
  /** the folded entries' one template, present only when the agent found exactly the expectation */
  template?: { route: RouteEntry; neighbour: NeighbourEntry; fdb: FdbEntry };
  /** the entries not folded: every entry when there is no template */
  tables: { routes: RouteEntry[]; neighbours: NeighbourEntry[]; fdb: FdbEntry[] };
}

const MASK = (1n << 64n) - 1n;

/** The agent's hash of one tuple: FNV-1a 64 of "cidr gw mac ip", mixed by splitmix64's finaliser. */
export function foldTupleHash(cidr: string, gw: string, mac: string, ip: string): bigint {
  // FNV-1a in two 32-bit halves (BigInt per byte costs ~10x more): h * 0x100000001b3 = h * 0x1b3 + (h << 40)
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of Buffer.from(`${cidr} ${gw} ${mac} ${ip}`)) {
    lo = (lo ^ byte) >>> 0;
    const low = lo * 0x1b3;
    hi = (Math.imul(hi, 0x1b3) + Math.floor(low / 0x100000000) + (lo << 8)) >>> 0;
    lo = low >>> 0;
  }
  let h = (BigInt(hi) << 32n) | BigInt(lo);
  h = ((h ^ (h >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  h = ((h ^ (h >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return h ^ (h >> 31n);
}

/** A sum of tuple hashes as the agent prints and reads it. */
export const foldHashText = (sum: bigint): string => (sum & MASK).toString(16).padStart(16, "0");

const entry = z.record(z.string(), z.unknown());
const outputSchema = z.object({
  found: z.object({ count: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{16}$/), shapes: z.number().int().min(0) }),
  folded: z.boolean(),
  template: z.object({ route: entry, neighbour: entry, fdb: entry }).optional(),
  routes: z.array(z.unknown()),
  neighbours: z.array(z.unknown()),
  fdb: z.array(z.unknown()),
});

function parse(stdout: string, expect: FoldExpectation | undefined): OverlayRead {
  const out = outputSchema.safeParse(parseJsonOutput(name, stdout));
  if (!out.success || out.data.folded !== (out.data.template !== undefined)) {
    throw new ProbeOutputError(name, out.success ? "a template without folding, or folding without one" : out.error.issues[0]!.message, stdout);
  }
  const { found, template } = out.data;
  // a fold is taken only for exactly what was asked: an agent with other rules must not pass one off
  if (template && (!expect || found.count !== expect.count || found.hash !== expect.hash.toLowerCase() || found.shapes !== 1)) {
    throw new ProbeOutputError(name, `a fold of ${found.count} entries hashing to ${found.hash}, not the ${expect?.count ?? 0} asked for`, stdout);
  }
  const fdbOf = (list: readonly unknown[]) => jsonObjects("fdb", list).flatMap((e) => fdbEntryOf(e) ?? []);
  const read: OverlayRead = {
    found,
    tables: {
      routes: jsonObjects("routes", out.data.routes).map(routeOf),
      neighbours: jsonObjects("neighbours", out.data.neighbours).map(neighbourOf),
      fdb: fdbOf(out.data.fdb),
    },
  };
  if (template) {
    const [fdb] = fdbOf([template.fdb]);
    if (!fdb) throw new ProbeOutputError(name, "the template's FDB entry has no dst", stdout);
    const [route] = jsonObjects("routes", [template.route]).map(routeOf);
    const [neighbour] = jsonObjects("neighbours", [template.neighbour]).map(neighbourOf);
    read.template = { route: route!, neighbour: neighbour!, fdb };
  }
  return read;
}

export const overlayFoldProbe: Probe<FoldExpectation | undefined, OverlayRead> = {
  name,
  agent: "host",
  argv: (expect) => ["xnode-agent", "overlay", ...(expect ? ["--expect", String(expect.count), expect.hash] : [])],
  parse,
};

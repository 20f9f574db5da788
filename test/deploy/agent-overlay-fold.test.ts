// The host agent folds a node's flannel entries itself (`xnode-agent
// overlay`, deploy/agent-image/xnode-agent.c) when they hash to exactly what
// the leases say. Whenever it folds, the evidence the worker rebuilds from
// the fold must be exactly what compactOverlay makes of the same tables read
// in full; when it does not, the tables come back as read. The agent's real
// binary runs here over each case's tables, served by `ip` and `bridge`
// stand-ins on its PATH.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { tableReadingAgent, type TableReadingAgent } from "@xnode/lab/testing";
import { compactOverlay, foldExpectation, hostTablesFrom } from "../../src/diagnosis/overlay-templates.js";
import type { CheckEvidence, ClusterSnapshot, FdbEntry, HostEvidence, NeighbourEntry, RouteEntry } from "../../src/model/index.js";
import { overlayFoldProbe, type FoldExpectation, type OverlayRead } from "../../src/probes/overlay-fold.js";
import { capturedEvidence } from "../diagnosis/captured-evidence-files.js";
import { lanCluster, mutations, sharedLookups } from "../diagnosis/overlay-cases.js";

// iproute2's JSON for each model entry: what the probes parse back into it
const rawRoute = (r: RouteEntry) => ({
  ...(r.type !== undefined && { type: r.type }),
  dst: r.dst,
  ...(r.gateway !== undefined && { gateway: r.gateway }),
  ...(r.dev !== undefined && { dev: r.dev }),
  ...(r.protocol !== undefined && { protocol: r.protocol }),
  ...(r.scope !== undefined && { scope: r.scope }),
  ...(r.prefsrc !== undefined && { prefsrc: r.prefsrc }),
  flags: r.onlink ? ["onlink"] : [],
});
const rawNeighbour = (n: NeighbourEntry) => ({ dst: n.dst, dev: n.dev, ...(n.lladdr !== undefined && { lladdr: n.lladdr }), state: n.states });
const rawFdb = (e: FdbEntry) => ({ mac: e.mac, ifname: e.dev, dst: e.dst, flags: ["self"], state: e.permanent ? "permanent" : "" });

let agent: TableReadingAgent;
before(async () => (agent = await tableReadingAgent()));
after(() => agent?.cleanup());

/** The host's tables as `ip -j` and `bridge -j` print them. */
const rawTables = (host: HostEvidence) => ({
  route: JSON.stringify(host.routes!.map(rawRoute)),
  neigh: JSON.stringify(host.neighbours!.map(rawNeighbour)),
  fdb: JSON.stringify(host.fdb!.map(rawFdb)),
});

/** The first node of a flat healthy cluster: its tables, what the worker expects of it, and the agent's arguments. */
function firstNode(cluster: string, count: number) {
  const ev = lanCluster(cluster, count);
  const host = ev.hosts[0]!;
  const expect = foldExpectation(ev.snapshot, host.node)!;
  return { host, expect, tables: rawTables(host), args: overlayFoldProbe.argv(expect).slice(1) };
}

function agentRead(host: HostEvidence, expect: FoldExpectation | undefined): OverlayRead {
  const r = agent.run(rawTables(host), overlayFoldProbe.argv(expect).slice(1));
  assert.equal(r.exitCode, 0, r.stderr);
  return overlayFoldProbe.parse(r.stdout, expect);
}

const json = (list: readonly object[] | undefined) => (list ?? []).map((e) => JSON.stringify(e));

/** Folded or not, the agent's read gives compactOverlay's evidence; returns whether it folded. */
function assertAgentAgrees(snapshot: ClusterSnapshot, host: HostEvidence, label: string): boolean {
  const expect = foldExpectation(snapshot, host.node);
  const read = agentRead(host, expect);
  const fromAgent = { ...host, ...hostTablesFrom(snapshot, host.node, read) };
  const compact = compactOverlay(snapshot, host);
  if (read.template) {
    assert.deepEqual(fromAgent.overlay, compact.overlay, `${label}: templates`);
    for (const key of ["routes", "neighbours", "fdb"] as const) assert.deepEqual(json(fromAgent[key]), json(compact[key]), `${label}: ${key} left`);
  } else {
    for (const key of ["routes", "neighbours", "fdb"] as const) assert.deepEqual(json(fromAgent[key]), json(host[key]), `${label}: ${key} as read`);
  }
  return read.template !== undefined;
}

const withTables = (ev: CheckEvidence) => ev.hosts.filter((h) => h.routes && h.neighbours && h.fdb);

test("every captured run: the agent folds where compaction does, and its fold is compaction's", () => {
  let folded = 0;
  let hosts = 0;
  for (const { name, evidence } of capturedEvidence()) {
    for (const host of withTables(evidence)) {
      hosts += 1;
      if (assertAgentAgrees(evidence.snapshot, host, `${name} ${host.node}`)) folded += 1;
    }
  }
  assert.ok(folded >= hosts / 2, `the agent folded ${folded} of ${hosts} captured hosts`);
});

const changesTuples = [
  "FDB entry sends elsewhere",
  "neighbour with a stale MAC",
  "route missing",
  "neighbour missing",
  "FDB entry twice",
  "route through cni0",
];

test("one entry broken in each way flannel's entries go wrong: the broken node sends its tables, never a fold that hides the fault", () => {
  let tried = 0;
  for (const { name, evidence } of capturedEvidence()) {
    for (const [what, mutate] of Object.entries(mutations)) {
      const ev = structuredClone(evidence);
      const host = withTables(ev).find((h) => h.fdb!.some((e) => e.dev.startsWith("flannel")));
      if (!host || mutate(host, ev) === undefined) continue;
      tried += 1;
      for (const h of withTables(ev)) assertAgentAgrees(ev.snapshot, h, `${name}: ${what} on ${host.node}, read on ${h.node}`);
      // a broken peer entry changes the node's tuples: no fold. (A changed annotation breaks every other node's fold instead,
      // and a blackhole inside a peer's CIDR joins no tuple: it stays in the list beside the fold.)
      if (changesTuples.includes(what))
        assert.equal(agentRead(host, foldExpectation(ev.snapshot, host.node)).template, undefined, `${name}: ${what} folded on ${host.node}`);
    }
  }
  assert.ok(tried >= Object.keys(mutations).length * 3, `only ${tried} mutated captures`);
});

for (const [what, mutate] of Object.entries(sharedLookups)) {
  test(`lookups that meet across peers: ${what}: the agent's fold is compaction's or absent`, () => {
    const ev = lanCluster("shared", 4);
    mutate(ev);
    for (const host of withTables(ev)) assertAgentAgrees(ev.snapshot, host, `${what} on ${host.node}`);
  });
}

test("a wrong expectation, or none, gets the tables as read", () => {
  const ev = lanCluster("expect", 5);
  const host = ev.hosts[0]!;
  const right = foldExpectation(ev.snapshot, host.node)!;
  assert.equal(right.count, 4);
  assert.ok(agentRead(host, right).template);
  for (const wrong of [{ ...right, count: 3 }, { ...right, hash: right.hash.replace(/.$/, (d) => (d === "0" ? "1" : "0")) }, undefined]) {
    const read = agentRead(host, wrong);
    assert.equal(read.template, undefined);
    assert.equal(read.tables.routes.length, host.routes!.length);
    assert.deepEqual(read.found, { count: 4, hash: right.hash, shapes: 1 });
  }
});

test("a 200-node cluster: every node's read folds to one template and a few entries", () => {
  const ev = lanCluster("fold-200", 200);
  for (const host of ev.hosts.slice(0, 20)) {
    const read = agentRead(host, foldExpectation(ev.snapshot, host.node));
    assert.ok(read.template, host.node);
    assert.ok(read.tables.routes.length + read.tables.neighbours.length + read.tables.fdb.length < 6, `${host.node} sent ${read.tables.routes.length} routes`);
  }
});

// JSON iproute2 does not print, but that the agent must not read one way where JSON.parse reads another
test("tables the agent cannot read as JSON.parse would (a key twice, escapes, text after the array) are never folded", () => {
  const { expect, tables: raw, args } = firstNode("odd-json", 4);
  assert.ok(overlayFoldProbe.parse(agent.run(raw, args).stdout, expect).template, "the plain tables fold");
  const twice = raw.route.replaceAll('"dev":"flannel.1"', '"dev":"flannel.1","dev":"cni0"');
  const escaped = raw.route.replace(/\]$/, ',{"type":"blackhole","dst":"10.0.1.0\\/25","flags":[]}]');
  for (const [what, route] of [
    ["a key twice", twice],
    ["an escaped slash", escaped],
  ]) {
    const r = agent.run({ ...raw, route: route! }, args);
    assert.equal(r.exitCode, 0, r.stderr);
    const read = overlayFoldProbe.parse(r.stdout, expect);
    assert.equal(read.template, undefined, what);
    assert.equal(read.tables.routes.length, JSON.parse(route!).length, `${what}: every route as read`);
  }
  const trailing = agent.run({ ...raw, neigh: `${raw.neigh}\n[]` }, args);
  assert.equal(trailing.exitCode, 1);
  assert.match(trailing.stderr, /ip -j neigh printed something other than a JSON array/);
  for (const bad of [
    ["--expect", `+${expect.count}`, expect.hash],
    ["--expect", String(expect.count), `0x${expect.hash.slice(2)}`],
  ]) {
    assert.equal(agent.run(raw, ["overlay", ...bad]).exitCode, 2, bad.join(" "));
  }
});

test("started with SIGCHLD ignored (as some container runtimes leave it), the agent still waits for its tools", () => {
  const { expect, tables, args } = firstNode("sigchld", 3);
  const ignoring = ["python3", "-c", "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"];
  const r = agent.run(tables, args, ignoring);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.ok(overlayFoldProbe.parse(r.stdout, expect).template);
});

test("a fold the worker did not ask for is refused, not read", () => {
  const { expect, tables, args } = firstNode("unasked", 4);
  const folded = agent.run(tables, args).stdout;
  assert.throws(() => overlayFoldProbe.parse(folded, { ...expect, count: expect.count + 1 }), /not the 4 asked for/);
  assert.throws(() => overlayFoldProbe.parse(folded, undefined), /PROBE|asked for/);
});

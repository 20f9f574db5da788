// Traffic probes the lab tests share: commands in a lab namespace, ping and
// HTTP between pods, the cross-node pod matrix. All traffic stays between the
// lab's own namespaces.
import assert from "node:assert/strict";
import { inNetns, run, type RunResult } from "../src/dataplane/exec.js";
import type { LabTopology } from "../src/dataplane/topology.js";

export const sh = (netns: string, argv: string[]): Promise<RunResult> => run(inNetns(netns, argv), { allowFail: true });

export async function out(netns: string, argv: string[]): Promise<string> {
  const r = await sh(netns, argv);
  assert.equal(r.code, 0, `${argv.join(" ")} in ${netns}: ${r.stderr}`);
  return r.stdout;
}

/** Two echo requests, one reply is enough: a live path never flakes on one lost first packet, a dead one fails in ~1.2 s. */
export async function pingOk(fromNetns: string, ip: string): Promise<boolean> {
  return (await sh(fromNetns, ["ping", "-n", "-q", "-c2", "-i0.2", "-W1", ip])).code === 0;
}

export async function curlOk(fromNetns: string, url: string): Promise<boolean> {
  const r = await sh(fromNetns, ["curl", "-sS", "--noproxy", "*", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url]);
  return r.code === 0 && r.stdout === "200";
}

/** Every ordered pair of pod agents on different nodes: does the first reach the second? */
export async function podMatrix(topo: LabTopology): Promise<Map<string, boolean>> {
  const names = Object.keys(topo.nodes).filter((n) => topo.nodes[n]!.podNetns);
  const pairs = names.flatMap((a) => names.filter((b) => b !== a).map((b) => [a, b] as const));
  const results = await Promise.all(pairs.map(([a, b]) => pingOk(topo.nodes[a]!.podNetns, topo.nodes[b]!.podIP)));
  return new Map(pairs.map(([a, b], i) => [`${a}->${b}`, results[i]!]));
}

export function assertMatrix(matrix: Map<string, boolean>, shouldAnswer: (from: string, to: string) => boolean): void {
  for (const [pair, ok] of matrix) {
    const [from, to] = pair.split("->") as [string, string];
    assert.equal(ok, shouldAnswer(from, to), `${pair} ${ok ? "answers" : "fails"}`);
  }
}

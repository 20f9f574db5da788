// iptables inside one node namespace, the way flanneld and kube-proxy manage
// their rules: own chains rewritten as a whole, jumps into them added once.
import { inNetns, run } from "./exec.js";

export type Table = "filter" | "nat" | "mangle";

/**
 * Loads rules with `iptables-restore --noflush`: only the chains declared in
 * `text` (":CHAIN - [0:0]") are flushed and refilled, everything else stays.
 */
export async function restoreRules(netns: string, text: string): Promise<void> {
  await run(inNetns(netns, ["iptables-restore", "--noflush"]), { input: text });
}

/** `iptables -t TABLE ARGS...` in the namespace. */
export async function iptables(netns: string, table: Table, args: readonly string[], allowFail = false): Promise<number> {
  const result = await run(inNetns(netns, ["iptables", "-w", "-t", table, ...args]), { allowFail });
  return result.code;
}

/** Appends `rule` to `chain` unless an identical rule is already there. */
export async function ensureRule(netns: string, table: Table, chain: string, rule: readonly string[]): Promise<void> {
  const present = (await iptables(netns, table, ["-C", chain, ...rule], true)) === 0;
  if (!present) await iptables(netns, table, ["-A", chain, ...rule]);
}

/** Deletes every copy of `rule` from `chain` (bounded: a chain holds few copies). */
export async function deleteRule(netns: string, table: Table, chain: string, rule: readonly string[]): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if ((await iptables(netns, table, ["-D", chain, ...rule], true)) !== 0) return;
  }
}

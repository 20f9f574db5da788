// iptables inside one node namespace, the way flanneld and kube-proxy manage
// their rules: own chains rewritten as a whole, jumps into them added once.
import { inNetns, run } from "./exec.js";

export type Table = "filter" | "nat" | "mangle";

/**
 * Which iptables a rule is written with. "system" is whatever `iptables`
 * resolves to on this machine (the alternatives link; iptables-nft on Debian
 * 11+); "legacy" and "nft" name a backend explicitly, for a node whose tools
 * disagree (the iptables-backend-split fault). Both backends' hooks run for
 * every packet: an ACCEPT in one does not stop a DROP in the other.
 */
export type Backend = "system" | "legacy" | "nft";

const binary: Record<Backend, string> = { system: "iptables", legacy: "iptables-legacy", nft: "iptables-nft" };

/**
 * Loads rules with `iptables-restore --noflush`: only the chains declared in
 * `text` (":CHAIN - [0:0]") are flushed and refilled, everything else stays.
 */
export async function restoreRules(netns: string, text: string, backend: Backend = "system"): Promise<void> {
  await run(inNetns(netns, [`${binary[backend]}-restore`, "--noflush"]), { input: text });
}

/** `iptables -t TABLE ARGS...` in the namespace. */
export async function iptables(netns: string, table: Table, args: readonly string[], allowFail = false, backend: Backend = "system"): Promise<number> {
  const result = await run(inNetns(netns, [binary[backend], "-w", "-t", table, ...args]), { allowFail });
  return result.code;
}

/** Appends `rule` to `chain` unless an identical rule is already there. */
export async function ensureRule(netns: string, table: Table, chain: string, rule: readonly string[], backend: Backend = "system"): Promise<void> {
  const present = (await iptables(netns, table, ["-C", chain, ...rule], true, backend)) === 0;
  if (!present) await iptables(netns, table, ["-A", chain, ...rule], false, backend);
}

/** Deletes every copy of `rule` from `chain` (bounded: a chain holds few copies). */
export async function deleteRule(netns: string, table: Table, chain: string, rule: readonly string[], backend: Backend = "system"): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if ((await iptables(netns, table, ["-D", chain, ...rule], true, backend)) !== 0) return;
  }
}

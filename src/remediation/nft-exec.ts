// Reads one nftables chain on a node through its host agent (`nft -j list
// chain …`, parsed by the nftables probe), for verifying an nft fix, undoing
// it, and fingerprinting the chain it edits.
import { XnodeError, isXnodeError } from "../errors.js";
import type { NftRuleset } from "../model/index.js";
import { parseNftListing } from "../probes/nftables.js";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { acceptOf, nftListChainArgv, sameAccept, type NftAccept, type NftAction, type NftChainRef } from "./nft-actions.js";
import type { NodeShell } from "./node-exec.js";

export async function readNftChain(shell: NodeShell, c: NftChainRef): Promise<NftRuleset> {
  const stdout = await shell.run(nftListChainArgv(c));
  try {
    return parseNftListing(stdout);
  } catch (err) {
    if (!isXnodeError(err)) throw err;
    throw new XnodeError(
      "PROBE_OUTPUT_INVALID",
      `\`${nftListChainArgv(c).join(" ")}\` on ${shell.node}: ${err.message}`,
      "Check that the host agent image has nftables (nft with JSON output).",
      { cause: err },
    );
  }
}

/** Counters and quota use move with traffic; everything else in the chain is what the plan was made against. */
function stable(expr: unknown): unknown {
  if (Array.isArray(expr)) return expr.map(stable);
  if (typeof expr !== "object" || expr === null) return expr;
  return Object.fromEntries(
    Object.entries(expr).flatMap(([k, v]) => {
      if (k === "counter" && typeof v === "object" && v !== null) return [[k, null]];
      if (k === "used") return [];
      return [[k, stable(v)]];
    }),
  );
}

/** Hash of the chain: its definition and its rules in order, with their handles, minus counters. */
export async function nftChainHash(shell: NodeShell, c: NftChainRef): Promise<string> {
  const listing = await readNftChain(shell, c);
  return sha256Hex(canonicalJson({ chains: listing.chains, rules: listing.rules.map((r) => ({ ...r, expr: stable(r.expr) })) }));
}

/** What an nft command found and left: the handle of the rule it added, or the rule it deleted and where it stood. */
export type NftRecord = { kind: "nft"; handle?: number; deleted?: { rule: NftAccept; beforeHandle?: number } };

function notApplied(node: string, argv: string[], saw: string): XnodeError {
  return new XnodeError(
    "FIX_FAILED",
    `\`${argv.join(" ")}\` ran on ${node} but did not take effect: ${saw}`,
    "Something on the node may be undoing it (firewalld reloading its rules, a script); the rollback reverts what did change.",
  );
}

/**
 * Runs one nft command and reads the chain back: an added rule must be there
 * once, new, where it was asked to go (right before `position`, or first, or
 * last); a deleted one gone. The record keeps what the rollback needs.
 */
export async function applyNft(shell: NodeShell, argv: string[], action: NftAction): Promise<{ record: NftRecord; verified: string; failure?: XnodeError }> {
  const before = await readNftChain(shell, action);
  const where = `${action.family} ${action.table} ${action.chain}`;
  if (action.op === "delete") {
    const at = before.rules.findIndex((r) => r.handle === action.handle);
    const gone = at >= 0 ? acceptOf(before.rules[at]!) : undefined;
    const next = before.rules[at + 1]?.handle;
    await shell.run(argv);
    const after = await readNftChain(shell, action);
    const ok = at >= 0 && !after.rules.some((r) => r.handle === action.handle);
    const record: NftRecord = { kind: "nft", ...(ok && gone ? { deleted: { rule: gone, ...(next !== undefined ? { beforeHandle: next } : {}) } } : {}) };
    if (ok) return { record, verified: `nft list chain ${where}: rule handle ${action.handle} gone` };
    return {
      record,
      verified: `rule handle ${action.handle} still in ${where}`,
      failure: notApplied(shell.node, argv, `rule handle ${action.handle} is still in ${where}`),
    };
  }
  const known = new Set(before.rules.map((r) => r.handle));
  await shell.run(argv);
  const after = await readNftChain(shell, action);
  const added = after.rules.filter((r) => !known.has(r.handle));
  const ours = added.filter((r) => {
    const read = acceptOf(r);
    return read !== undefined && sameAccept(read, action.rule);
  });
  const rule = ours.length === 1 ? ours[0]! : undefined;
  const order = after.rules.map((r) => r.handle);
  const at = rule ? order.indexOf(rule.handle) : -1;
  const placed = action.op === "add" ? at === order.length - 1 : action.position === undefined ? at === 0 : order[at + 1] === action.position;
  // a rule that reads back unlike the command (or sits elsewhere) is still undone: the only new rule is the command's
  const undo = rule ?? (added.length === 1 ? added[0] : undefined);
  const record: NftRecord = { kind: "nft", ...(undo ? { handle: undo.handle } : {}) };
  const place = action.op === "add" ? "last" : action.position === undefined ? "first" : `before handle ${action.position}`;
  if (rule && placed) return { record, verified: `nft list chain ${where}: "${rule.text}" as handle ${rule.handle}, ${place}` };
  const saw = rule ? `rule handle ${rule.handle} is not ${place}` : `${ours.length} new rules like it (of ${added.length} new)`;
  return { record, verified: saw, failure: notApplied(shell.node, argv, `nft list chain ${where}: ${saw}`) };
}

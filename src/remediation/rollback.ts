// The plan that undoes an applied fix, in the same form as any other plan so
// it goes through the same approval, drift check, dry run and verification.
import type { RemediationPlan } from "../model/index.js";
import type { AppliedCommand } from "./apply-host-commands.js";
import { canonicalJson } from "./canonical.js";
import { helmValuesDiffLines, restartDiffLine } from "../diagnosis/remediation/flannel-diff-lines.js";
import { describeObject } from "./apply-custom-object.js";
import { nodePatchUndoDiffLines, undoNodePatch } from "./apply-node-patches.js";
import { IPTABLES_TOOLS, iptablesHead, parseHostAction, routeKey, routeSpec, type RouteJson } from "./host-actions.js";
import { nftAcceptWords, nftHead } from "./nft-actions.js";
import type { AppliedFix, FlannelChangeApplied } from "./types.js";

function undoRoute(before: RouteJson[], after: RouteJson[]): string[][] {
  const keyOf = (r: RouteJson) => canonicalJson(r);
  const removed = before.filter((r) => !after.some((a) => keyOf(a) === keyOf(r)));
  const added = after.filter((r) => !before.some((b) => keyOf(b) === keyOf(r)));
  // a restored route with the same destination and metric replaces the added one in place
  const restoredKeys = new Set(removed.map(routeKey));
  return [
    ...added.filter((r) => !restoredKeys.has(routeKey(r))).map((r) => ["ip", "route", "del", ...routeSpec(r)]),
    ...removed.map((r) => ["ip", "route", "replace", ...routeSpec(r)]),
  ];
}

function undoCommand(c: AppliedCommand): string[][] {
  const action = parseHostAction(c.argv);
  const r = c.record;
  if (action.kind === "route" && r.kind === "route") return undoRoute(r.before, r.after);
  if (action.kind === "iptables" && r.kind === "iptables") {
    // the same tool (and lock wait) as the fix: the rule is in that backend
    if (action.op !== "-D") return [[...iptablesHead(action.table, "-D", action.chain, action), ...action.spec]];
    return r.deletedAt === undefined ? [] : [[...iptablesHead(action.table, "-I", action.chain, action), String(r.deletedAt), ...action.spec]];
  }
  if (action.kind === "sysctl" && r.kind === "sysctl" && r.previous !== action.value) return [["sysctl", "-w", `${action.key}=${r.previous}`]];
  // only what the command changed: an address it added that was not there, one it removed that was
  if (action.kind === "addr" && r.kind === "addr" && r.before.includes(action.address) === (action.verb === "del")) {
    return [["ip", "addr", action.verb === "add" ? "del" : "add", action.address, "dev", action.dev]];
  }
  if (action.kind === "nft" && r.kind === "nft") {
    // an added rule goes by the handle it got; a deleted one comes back where it stood
    if (action.op !== "delete") return r.handle === undefined ? [] : [[...nftHead("delete", action), "handle", String(r.handle)]];
    if (!r.deleted) return [];
    const { rule, beforeHandle } = r.deleted;
    return [
      beforeHandle === undefined
        ? [...nftHead("add", action), ...nftAcceptWords(rule)]
        : [...nftHead("insert", action), "position", String(beforeHandle), ...nftAcceptWords(rule)],
    ];
  }
  return [];
}

function hostRisks(commands: { argv: string[] }[]): string[] {
  const tools = new Set(commands.map((c) => (c.argv[0] === "ip" ? `ip ${c.argv[1]}` : c.argv[0])));
  return [
    "Not persistent, like the fix it undoes.",
    ...(tools.has("ip addr")
      ? ["Puts the device's addresses back as they were: a cni0 with a stale address again leaves the node's pods unreachable and new pods failing."]
      : []),
    ...(tools.has("ip route") ? ["Puts the routes back exactly as they were: traffic for those pod CIDRs takes its previous path again, broken or not."] : []),
    ...(IPTABLES_TOOLS.some((t) => tools.has(t))
      ? ["Removes the rules the fix added (or puts back the ones it removed): the traffic they decided about is handled as before the fix."]
      : []),
    ...(tools.has("nft")
      ? ["Removes the nftables rule the fix inserted (by its handle), or puts back the one it removed: what it accepted is dropped again as before the fix."]
      : []),
    ...(tools.has("sysctl")
      ? ["Sets the sysctls back to their previous values: if forwarding was off, pods on that node are unreachable from other nodes again."]
      : []),
  ];
}

/** The DaemonSet fields and the custom object put back as they were, then the same pods restarted, converging on the old addresses. */
function undoFlannelChange(applied: FlannelChangeApplied, summary: string): RemediationPlan {
  const { patch: p, customObject: o, plan } = applied;
  const container = p && `/spec/template/spec/containers/${p.containerIndex}`;
  const patch = p && {
    namespace: p.namespace,
    name: p.name,
    // each field is first tested to still hold what the fix wrote: a later change by anyone else is never overwritten
    ops: [
      ...p.changes.flatMap((c) => (c.after !== undefined ? [{ op: "test", path: `${container}/${c.field}`, value: c.after }] : [])),
      ...p.changes.flatMap((c) =>
        c.before !== undefined
          ? [{ op: "add", path: `${container}/${c.field}`, value: c.before }]
          : c.after !== undefined
            ? [{ op: "remove", path: `${container}/${c.field}` }]
            : [],
      ),
    ],
  };
  const what = o && describeObject(o.ref);
  const customObject = o && {
    ...o.ref,
    ops: [
      ...(o.after !== undefined ? [{ op: "test", path: "/spec/valuesContent", value: o.after }] : []),
      { op: "add", path: "/spec/valuesContent", value: o.before ?? "" },
    ],
    ...(o.undoReconciledWhen ? { reconciledWhen: o.undoReconciledWhen } : {}),
  };
  const restartPods = plan.restartPods;
  const nodePatches = applied.nodePatches?.map(undoNodePatch).filter((n) => n.ops.length > 0);
  if (!patch && !customObject && !nodePatches?.length) {
    // a restart alone (restart-flannel-pod) changed no setting: flannel advertises what its device has
    return {
      kind: applied.plan.kind,
      summary: `${summary}: nothing to undo`,
      approvable: false,
      steps: ["Nothing to undo: restarting flannel changed no setting, it only made flannel advertise what its device has."],
      diff: [],
      persistent: true,
      risks: [],
    };
  }
  const annotated = applied.nodePatches?.map((n) => `Node ${n.node}`) ?? [];
  const where = [p && `DaemonSet ${p.namespace}/${p.name}`, what, ...annotated].filter((w) => w !== undefined).join(" and ");
  return {
    kind: applied.plan.kind,
    summary: `${summary}: restore flannel's previous setting in ${where || "its pods"}`,
    ...(patch ? { patch } : {}),
    ...(customObject ? { customObject } : {}),
    ...(nodePatches?.length ? { nodePatches } : {}),
    ...(restartPods ? { restartPods } : {}),
    // k3s: the same restart by hand undoes it too
    ...(!restartPods && plan.steps ? { steps: plan.steps } : {}),
    ...(Object.keys(applied.previousPublicIPs).length > 0 ? { expectedPublicIPs: applied.previousPublicIPs } : {}),
    diff: [
      ...(p?.undoDiff ?? []),
      ...(o && what ? helmValuesDiffLines(what, false, o.after, o.before ?? "") : []),
      ...nodePatchUndoDiffLines(applied.nodePatches ?? []),
      ...(restartPods ? [restartDiffLine(restartPods.daemonSet, restartPods.nodes)] : []),
    ],
    persistent: true,
    risks: [
      ...(patch || customObject
        ? [
            "flannel restarts on every node with the previous setting: whatever the fix repaired breaks again, and cross-node pod traffic pauses briefly on each node.",
            "The rollback is refused if the fields it restores changed after the fix wrote them (each is tested to still hold the fix's value); re-run the check then.",
          ]
        : []),
      ...(nodePatches?.length
        ? [
            `The annotations go back on ${annotated.join(" and ")} and flannel restarts there: it advertises the old address again, so whatever the fix repaired breaks again.`,
            "The rollback is refused if those annotations changed after the fix (the drift check reads them); re-run the check then.",
          ]
        : []),
    ],
  };
}

export function rollbackPlanFor(applied: AppliedFix): RemediationPlan {
  const summary = `Undo "${applied.plan.summary}"`;
  if (applied.kind === "flannel") return undoFlannelChange(applied, summary);
  // undo in reverse order: the last change first, as a stack
  const commands = [...applied.commands].reverse().flatMap((c) => undoCommand(c).map((argv) => ({ node: c.node, argv })));
  return {
    kind: applied.plan.kind,
    summary,
    commands,
    diff: commands.map((c) => `${c.node}: ${c.argv.join(" ")}`),
    persistent: false,
    risks: commands.length === 0 ? ["The fix changed nothing that needs undoing."] : hostRisks(commands),
  };
}

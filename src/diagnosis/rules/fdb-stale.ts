// A node's neighbour or FDB entries for a peer disagree with the peer's Node
// annotations (VtepMAC, public-ip), or point at an address no node holds; or
// a node's flannel.1 MAC is not the VtepMAC it advertises (so the peers'
// entries, right by the annotation, name a MAC the device does not have).
import type { CheckEvidence, Finding } from "../../model/index.js";
import { inNodeOrder, nodeNamed } from "../cluster-view.js";
import { capLines, joinNames } from "../evidence-lines.js";
import { overlayProvenWorking } from "../matrix-view.js";
import { overlayEntryProblems, type EntryProblem } from "../overlay-entries.js";
import { representativeTrace } from "../path-trace.js";
import { flannelRestartCommand, planRestartFlannel } from "../remediation/plan-flannel-restart.js";
import { vtepMacDrift } from "../vtep-mac-drift.js";

/** An FDB entry sending to the address a wrong override annotation made the peer advertise: public-ip-overwrite-wrong shows it already. */
function explainedByOverride(ev: CheckEvidence, p: EntryProblem, overridden: ReadonlySet<string>): boolean {
  const flannel = p.peer === undefined ? undefined : nodeNamed(ev, p.peer)?.flannel;
  return p.kind === "fdb" && p.dst !== undefined && overridden.has(p.peer!) && (flannel?.publicIPOverwrite === p.dst || flannel?.nodePublicIP === p.dst);
}

export function fdbStale(ev: CheckEvidence, earlier: readonly Finding[] = []): Finding | undefined {
  const overridden = new Set(earlier.find((f) => f.id === "public-ip-overwrite-wrong")?.nodes ?? []);
  const problems = ev.snapshot.nodes
    .flatMap((n) => overlayEntryProblems(ev, n.name))
    .filter((p) => p.kind !== "route" && !explainedByOverride(ev, p, overridden));
  const drifts = ev.snapshot.nodes.flatMap((n) => (overlayProvenWorking(ev, n.name) ? [] : (vtepMacDrift(ev, n.name) ?? [])));
  if (problems.length === 0 && drifts.length === 0) return undefined;
  const stale = inNodeOrder(
    ev,
    problems.map((p) => p.node),
  );
  const drifted = drifts.map((d) => d.node);
  const nodes = inNodeOrder(ev, [...problems.flatMap((p) => [p.node, ...(p.peer ? [p.peer] : [])]), ...drifted]);
  const restarts = stale.map((node) => flannelRestartCommand(ev, node));
  // flannel re-writes a current peer's entries when it starts (neigh/fdb replace); entries of no current peer it leaves alone
  const reprogram = inNodeOrder(
    ev,
    problems.filter((p) => p.peer !== undefined).map((p) => p.node),
  );
  const restart = inNodeOrder(ev, [...drifted, ...reprogram]);
  const plan = restart.length > 0 ? planRestartFlannel(ev, restart, drifted) : undefined;
  const entriesText =
    stale.length === 0
      ? ""
      : "For each peer flannel writes a permanent neighbour entry (the peer's flannel.1 address → its VtepMAC) and an FDB entry (that MAC → " +
        "the peer's public-ip); VXLAN learning is off, so the kernel sends a peer's packets exactly where these entries say. An entry with the " +
        "wrong MAC or destination (left over from an earlier address, written by hand, or a public-ip-overwrite naming an address no node has) " +
        `sends the packets nowhere. Restart flannel on ${joinNames(stale)} so it re-programs the entries from the Node annotations ` +
        `(${restarts.join("; ")}); correct a wrong public-ip-overwrite annotation first. `;
  const driftText =
    drifted.length === 0
      ? ""
      : `flannel.1 on ${joinNames(drifted)} has another MAC than the VtepMAC ${drifted.length === 1 ? "it advertises" : "they advertise"}: ` +
        "something changed it after flannel published it (systemd's MACAddressPolicy=persistent does, flannel #1155). The peers address " +
        `their frames to the advertised MAC, so ${joinNames(drifted)} drops them as not its own and its pods are unreachable from other nodes. ` +
        "Restarting flannel there makes it advertise the MAC the device has (flannel keeps an existing flannel.1 and publishes its MAC), and the peers re-program. ";
  return {
    id: "fdb-stale",
    severity: "critical",
    nodes,
    evidence: [...drifts.flatMap((d) => capLines(d.lines, 7, "peer entries")), ...problems.map((p) => p.line)],
    explanation: (driftText + entriesText + (plan || stale.length === 0 ? "" : "None of xnode's automatic fixes applies.")).trim(),
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, [...drifted, ...stale]),
  };
}

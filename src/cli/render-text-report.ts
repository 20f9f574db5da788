// The terminal report: nodes, the pod matrix, NodePorts, then each root cause
// once with the findings it explains, its evidence, where the packet dies and
// the proposed fixes (each once). Pure.
import { causeGroups, groupPlans, problemsOf, type CauseGroup, type CheckReport, type Finding, type MatrixEntry } from "../model/index.js";

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

function cell(entries: MatrixEntry[]): string {
  if (entries.length === 0) return "?";
  return entries.map((e) => (e.ok ? "ok" : "FAIL")).join("/");
}

function podMatrix(report: CheckReport): string[] {
  const names = report.nodes.map((n) => n.name);
  const pods = report.matrix.filter((m) => m.kind === "pod-icmp" || m.kind === "pod-tcp");
  if (pods.length === 0) return ["  (no pod agents answered)"];
  const width = Math.max(...names.map((n) => n.length), 9) + 2;
  const lines = [`  ${pad("from \\ to", width)}${names.map((n) => pad(n, width)).join("")}`];
  for (const from of names) {
    const row = names.map((to) => pad(from === to ? "-" : cell(pods.filter((m) => m.from === from && m.to === to)), width));
    lines.push(`  ${pad(from, width)}${row.join("")}`);
  }
  lines.push("  (each cell: ICMP/TCP from the pod agent on the row's node to the one on the column's node)");
  return lines;
}

function nodePorts(report: CheckReport): string[] {
  const np = report.matrix.filter((m) => m.kind === "nodeport");
  return np.map((m) => `  ${m.ok ? "ok  " : "FAIL"} ${m.service} ${m.target} (node ${m.to}) from ${m.from}${m.error ? `: ${m.error}` : ""}`);
}

function traceLines(trace: NonNullable<Finding["trace"]>): string[] {
  const out = [`   path ${trace.from} -> ${trace.to}:`];
  for (const hop of trace.hops) out.push(`     ${hop.ok ? "ok  " : "FAIL"} ${hop.hop}: ${hop.detail}`);
  if (trace.observed) {
    out.push(`   packets seen ${trace.from} -> ${trace.to}:`);
    for (const p of trace.observed) out.push(`     ${p.seen ? "seen" : "none"} ${p.point}: ${p.detail}`);
    out.push(`     ${trace.lostAfter ? `last seen at ${trace.lostAfter}` : "not seen at any capture point"}`);
  }
  return out;
}

function cause(group: CauseGroup, i: number): string[] {
  const f = group.cause;
  const out = [`${i + 1}. [${f.severity}] ${f.id}${f.nodes.length ? ` (${f.nodes.join(", ")})` : ""}`];
  out.push(`   ${f.explanation}`);
  if (f.evidence.length) out.push("   evidence:", ...f.evidence.map((e) => `     - ${e}`));
  if (group.consequences.length) {
    out.push("   this also explains:");
    for (const c of group.consequences)
      out.push(`     - [${c.severity}] ${c.id}${c.nodes.length ? ` (${c.nodes.join(", ")})` : ""}`, ...c.evidence.map((e) => `         ${e}`));
  }
  const trace = f.trace ?? group.consequences.find((c) => c.trace)?.trace;
  if (trace) out.push(...traceLines(trace));
  groupPlans(group).forEach((r, j) => {
    const manual = r.approvable === false ? " (steps for you to carry out: xnode cannot apply this)" : "";
    out.push(`   fix ${String.fromCharCode(97 + j)}) ${r.kind}: ${r.summary}${r.persistent ? "" : " (not persistent)"}${manual}`);
    for (const d of r.diff) out.push(`        ${d}`);
    (r.steps ?? []).forEach((step, k) => out.push(`        step ${k + 1}: ${step}`));
    // The diff already names per-node commands for most plans; list them only when it does not.
    if (r.diff.length === 0) for (const c of r.commands ?? []) out.push(`        on ${c.node}: ${c.argv.join(" ")}`);
    for (const risk of r.risks) out.push(`        risk: ${risk}`);
    if (r.revertedBy) {
      out.push(`        temporary: ${r.revertedBy.manager} reverts it; to keep it, commit to ${r.revertedBy.commitTo}:`);
      out.push(
        ...r.revertedBy.values
          .trimEnd()
          .split("\n")
          .map((l) => `          ${l}`),
      );
    }
  });
  return out;
}

export function renderTextReport(report: CheckReport): string {
  const problems = problemsOf(report.findings);
  const verdict = problems.length === 0 ? "healthy" : `${problems.length} problem${problems.length === 1 ? "" : "s"} found`;
  const lines = [`xnode check ${report.cluster}: ${verdict} (${report.nodes.length} nodes, ${(report.durationMs / 1000).toFixed(1)} s)`, "", "Nodes:"];
  const w = Math.max(...report.nodes.map((n) => n.name.length)) + 2;
  for (const n of report.nodes) {
    const parts = [`InternalIP ${n.internalIP ?? "?"}`, `pods ${n.podCIDR ?? "none"}`, `flannel public-ip ${n.publicIP ?? "?"}`];
    lines.push(`  ${pad(n.name, w)}${parts.join("  ")}${n.probed ? "" : `  NOT PROBED: ${n.error ?? "no host agent"}`}`);
  }
  lines.push("", "Pod to pod:", ...podMatrix(report));
  const np = nodePorts(report);
  if (np.length) lines.push("", "NodePorts:", ...np);
  const groups = causeGroups(report.findings);
  lines.push(
    "",
    groups.length === report.findings.length
      ? "Findings:"
      : `Findings (${report.findings.length}, from ${groups.length} cause${groups.length === 1 ? "" : "s"}):`,
  );
  groups.forEach((g, i) => lines.push(...cause(g, i), ""));
  return lines.join("\n");
}

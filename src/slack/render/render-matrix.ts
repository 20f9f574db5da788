// The connectivity message: an emoji grid of pod-to-pod reachability for
// clusters small enough to scan, the failing pairs grouped for larger ones,
// then the NodePort results.
import type { CheckReport, MatrixEntry } from "../../model/index.js";
import { context, header, packSections, section, type Block, type RenderedPart } from "./blocks.js";
import { capLines, omittedNote, truncate } from "./limits.js";
import { bold, code, escape, nameList } from "./mrkdwn.js";
import { countStates, groupBy, pairCount, pairKey, podPairs, probedPodPairs, problemsOf, type PairState, type PodPair } from "../../model/index.js";

/** Past this a row of emoji wraps on a laptop screen and the grid stops being one. */
export const GRID_MAX_NODES = 20;
const MAX_GROUPS = 30;
const MAX_NAMES_PER_GROUP = 12;
const MIN_NAMES_PER_GROUP = 3;
// The grouped lines' share of the message's text budget (MAX_MESSAGE_BLOCK_TEXT), leaving room for the NodePorts.
const GROUPED_TEXT = 7000;
const MAX_NODEPORT_FAILURES = 10;

const CELL: Record<PairState, string> = { ok: ":white_check_mark:", fail: ":x:", unknown: ":grey_question:" };
// An emoji rather than a text dash: emoji all have one width, so the columns stay aligned without a code block.
const DIAGONAL = ":heavy_minus_sign:";

function gridBlocks(report: CheckReport, pairs: readonly PodPair[]): Block[] {
  const state = new Map(pairs.map((p) => [pairKey(p.from, p.to), p.state]));
  // Each row ends in its node's name so names of any length cannot push the cells out of line.
  const rows = report.nodes.map((from, i) => {
    const cells = report.nodes.map((to) => (to.name === from.name ? DIAGONAL : CELL[state.get(pairKey(from.name, to.name))!]));
    return `${cells.join(" ")}   ${i + 1}. ${escape(from.name)}`;
  });
  return [
    context(
      `Row: from this node's pod · column: to the node with that row number · ${CELL.ok} ICMP and TCP answered · ${CELL.fail} a probe failed · ${CELL.unknown} not probed`,
    ),
    ...packSections(rows),
  ];
}

interface BrokenNode {
  node: string;
  from: number;
  to: number;
  probed: number;
  causes: string[];
}

/**
 * The nodes most of whose probed pairs fail, most failures first: the broken
 * ends of those pairs (a healthy peer of a broken node fails only its pairs
 * with it), each with the findings that name it.
 */
function brokenNodes(report: CheckReport, pairs: readonly PodPair[]): BrokenNode[] {
  const tally = new Map<string, { from: number; to: number; probed: number }>();
  const of = (node: string) => tally.get(node) ?? tally.set(node, { from: 0, to: 0, probed: 0 }).get(node)!;
  for (const p of pairs) {
    if (p.state === "unknown") continue;
    of(p.from).probed++;
    of(p.to).probed++;
    if (p.state === "fail") {
      of(p.from).from++;
      of(p.to).to++;
    }
  }
  const problems = problemsOf(report.findings);
  return [...tally]
    .filter(([, t]) => t.from + t.to > 1 && (t.from + t.to) * 2 >= t.probed)
    .map(([node, t]) => ({ node, ...t, causes: problems.filter((f) => f.nodes.includes(node)).map((f) => f.id) }))
    .sort((a, b) => b.from + b.to - (a.from + a.to) || a.node.localeCompare(b.node));
}

function brokenLine(b: BrokenNode): string {
  const causes = b.causes.length > 0 ? `: ${b.causes.map(bold).join(", ")}` : ": _no finding names it_";
  return `${CELL.fail} ${bold(b.node)}: ${b.from + b.to}/${b.probed} of its probed pairs fail (${b.to} to it, ${b.from} from it)${causes}`;
}

/**
 * Failing pairs by node: first the broken nodes, one line each, grouped by the
 * finding that names them; then the failing pairs between other nodes, grouped
 * by destination when one node is the target of most of them, else by source.
 */
function groupedFailures(report: CheckReport, pairs: readonly PodPair[]): RenderedPart {
  const failing = pairs.filter((p) => p.state === "fail");
  if (failing.length === 0) return { blocks: [], cut: false };
  const broken = brokenNodes(report, pairs);
  const causeOrder = (b: BrokenNode) => (b.causes.length ? report.findings.findIndex((f) => f.id === b.causes[0]) : report.findings.length);
  const brokenShown = capLines(
    [...broken].sort((a, b) => causeOrder(a) - causeOrder(b)).map(brokenLine),
    MAX_GROUPS,
    omittedNote(report.cluster, "nodes with failures"),
  );
  const isBroken = new Set(broken.map((b) => b.node));
  const rest = failing.filter((p) => !isBroken.has(p.from) && !isBroken.has(p.to));
  const restBudget = GROUPED_TEXT - brokenShown.lines.reduce((n, l) => n + l.length + 1, 0);
  const others = groupedPairs(report, rest, restBudget);
  const blocks = broken.length
    ? [
        context(
          `Failing pairs by node: ${broken.length} ${broken.length === 1 ? "node fails" : "nodes fail"} most of ${broken.length === 1 ? "its" : "their"} probed pairs`,
        ),
        ...packSections(brokenShown.lines),
      ]
    : [];
  if (others.lines.length > 0)
    blocks.push(context(`${broken.length ? "Other failing pairs" : "Failing pairs"} grouped by ${others.by} node`), ...packSections(others.lines));
  return { blocks, cut: brokenShown.cut || others.cut };
}

/** Failing pairs grouped by their destination or their source node, whichever has the larger group, in about `budget` characters. */
function groupedPairs(report: CheckReport, failing: readonly PodPair[], budget: number): { lines: string[]; by: "source" | "destination"; cut: boolean } {
  if (failing.length === 0) return { lines: [], by: "source", cut: false };
  // [node, the nodes on the other end of its failing pairs], largest group first
  const group = (side: "from" | "to"): [string, string[]][] =>
    [...groupBy(failing, (p) => p[side])]
      .map(([node, list]): [string, string[]] => [node, list.map((p) => (side === "from" ? p.to : p.from))])
      .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const bySource = group("from");
  const byDestination = group("to");
  const useDestination = byDestination[0]![1].length > bySource[0]![1].length;
  const groups = useDestination ? byDestination : bySource;
  const others = report.nodes.length - 1;
  // Long node names and many groups: fewer names per line, so every group still shows (the rest is in the attached report).
  const nameLength = report.nodes.reduce((n, node) => n + node.name.length + 2, 0) / Math.max(1, report.nodes.length);
  const perLine = Math.max(0, budget) / Math.min(groups.length, MAX_GROUPS) - 2 * nameLength - 60;
  const names = Math.max(MIN_NAMES_PER_GROUP, Math.min(MAX_NAMES_PER_GROUP, Math.floor(perLine / nameLength)));
  const lines = groups.map(([node, peers]) => {
    const all = peers.length === others ? " (every other node)" : "";
    return useDestination
      ? `${CELL.fail} ${bold(node)} unreachable from ${peers.length}/${others} nodes${all}: ${nameList(peers, names)}`
      : `${CELL.fail} from ${bold(node)}: ${peers.length}/${others} nodes unreachable${all}: ${nameList(peers, names)}`;
  });
  const shown = capLines(lines, MAX_GROUPS, omittedNote(report.cluster, "nodes with failures"));
  return { lines: shown.lines, by: useDestination ? "destination" : "source", cut: shown.cut || groups.some(([, peers]) => peers.length > names) };
}

/** Per service: how many probes answered, and the failures, each on its own line. */
function nodePortLines(cluster: string, entries: readonly MatrixEntry[]): { lines: string[]; cut: boolean } {
  const services = [...groupBy(entries, (e) => e.service ?? e.target)].map(([service, results]) => {
    const failed = results.filter((e) => !e.ok);
    const head = `${failed.length === 0 ? CELL.ok : CELL.fail} ${bold(service)}: ${results.length - failed.length}/${results.length} probes answered`;
    const failures = failed.map((e) => `      from ${escape(e.from)} to ${code(e.target)} on ${escape(e.to)}: ${escape(truncate(e.error ?? "failed", 300))}`);
    const shown = capLines(failures, MAX_NODEPORT_FAILURES, omittedNote(cluster, "failures"));
    return { lines: [head, ...shown.lines], cut: shown.cut };
  });
  return { lines: services.flatMap((s) => s.lines), cut: services.some((s) => s.cut) };
}

export function renderMatrixBlocks(report: CheckReport): RenderedPart {
  // Small clusters: every pair, for the grid. Large ones: only the probed pairs (a sampled check probes a few per node).
  const grid = report.nodes.length <= GRID_MAX_NODES;
  const pairs = grid ? podPairs(report) : probedPodPairs(report);
  const counts = countStates(pairs);
  const total = pairCount(report);
  const unprobed = total - counts.ok - counts.fail;
  const failing = counts.fail ? ` · ${counts.fail} failing` : "";
  const unknown = unprobed ? ` · ${unprobed} not probed` : "";
  const blocks: Block[] = [header("Connectivity"), section(`*Pod to pod:* ${counts.ok}/${total} pairs reachable${failing}${unknown}`)];
  let cut = false;
  if (pairs.length > 0 && grid) blocks.push(...gridBlocks(report, pairs));
  else {
    blocks.push(context(`The whole matrix is in the picture and the CSV attached below: rows from, columns to, ${report.nodes.length} nodes`));
    const grouped = groupedFailures(report, pairs);
    blocks.push(...grouped.blocks);
    cut = grouped.cut;
  }
  const nodePorts = report.matrix.filter((e) => e.kind === "nodeport");
  if (nodePorts.length > 0) {
    const np = nodePortLines(report.cluster, nodePorts);
    blocks.push(...packSections(["*NodePorts:*", ...np.lines]));
    cut ||= np.cut;
  }
  return { blocks, cut };
}

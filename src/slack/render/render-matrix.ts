// The connectivity message: an emoji grid of pod-to-pod reachability for
// clusters small enough to scan, the failing pairs grouped for larger ones,
// then the NodePort results.
import type { CheckReport, MatrixEntry } from "../../model/index.js";
import { context, header, packSections, section, type Block, type RenderedPart } from "./blocks.js";
import { capLines, omittedNote, truncate } from "./limits.js";
import { bold, code, escape, nameList } from "./mrkdwn.js";
import { countStates, groupBy, pairKey, podPairs, type PairState, type PodPair } from "../../model/index.js";

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

function grid(report: CheckReport, pairs: readonly PodPair[]): Block[] {
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

/**
 * Failing pairs grouped by destination when one node is the target of most of
 * them (that node is the broken one), else by source.
 */
function groupedFailures(report: CheckReport, pairs: readonly PodPair[]): RenderedPart {
  const failing = pairs.filter((p) => p.state === "fail");
  if (failing.length === 0) return { blocks: [], cut: false };
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
  const perLine = GROUPED_TEXT / Math.min(groups.length, MAX_GROUPS) - 2 * nameLength - 60;
  const names = Math.max(MIN_NAMES_PER_GROUP, Math.min(MAX_NAMES_PER_GROUP, Math.floor(perLine / nameLength)));
  const lines = groups.map(([node, peers]) => {
    const all = peers.length === others ? " (every other node)" : "";
    return useDestination
      ? `${CELL.fail} ${bold(node)} unreachable from ${peers.length}/${others} nodes${all}: ${nameList(peers, names)}`
      : `${CELL.fail} from ${bold(node)}: ${peers.length}/${others} nodes unreachable${all}: ${nameList(peers, names)}`;
  });
  const shown = capLines(lines, MAX_GROUPS, omittedNote(report.cluster, "nodes with failures"));
  return {
    blocks: [context(`Failing pairs grouped by ${useDestination ? "destination" : "source"} node`), ...packSections(shown.lines)],
    cut: shown.cut || groups.some(([, peers]) => peers.length > names),
  };
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
  const pairs = podPairs(report);
  const counts = countStates(pairs);
  const failing = counts.fail ? ` · ${counts.fail} failing` : "";
  const unknown = counts.unknown ? ` · ${counts.unknown} not probed` : "";
  const blocks: Block[] = [header("Connectivity"), section(`*Pod to pod:* ${counts.ok}/${pairs.length} pairs reachable${failing}${unknown}`)];
  let cut = false;
  if (pairs.length > 0 && report.nodes.length <= GRID_MAX_NODES) blocks.push(...grid(report, pairs));
  else {
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

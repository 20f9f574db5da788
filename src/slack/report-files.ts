// The files a report's thread carries beside its messages: for a cluster too
// large for the emoji grid, the whole matrix as a picture and as CSV with the
// full report; for a smaller one, the full report only when a message was cut.
import { problemsOf, type CheckReport, type MatrixEntry } from "../model/index.js";
import { renderHeatmap } from "./heatmap/render-heatmap.js";
import { GRID_MAX_NODES } from "./render/render-matrix.js";
import type { ReportMessages } from "./render/render-report.js";
import type { SlackFile } from "./slack-port.js";

const CSV_COLUMNS = ["from", "to", "kind", "ok", "rttMs", "error"] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: string | number | boolean | undefined): string {
  const text = value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function matrixCsv(matrix: readonly MatrixEntry[]): string {
  const rows = matrix.map((e) => CSV_COLUMNS.map((c) => csvField(e[c])).join(","));
  return [CSV_COLUMNS.join(","), ...rows].join("\r\n") + "\r\n";
}

/** Whether the thread shows the matrix as an attached picture rather than an emoji grid. */
export function showsMatrixAsPicture(report: CheckReport): boolean {
  return report.nodes.length > GRID_MAX_NODES;
}

export function reportFiles(report: CheckReport, messages: ReportMessages): SlackFile[] {
  const name = `xnode-${report.cluster}`;
  const json: SlackFile = { filename: `${name}-report.json`, title: `Full xnode report for ${report.cluster}`, content: JSON.stringify(report, null, 2) };
  if (!showsMatrixAsPicture(report)) return messages.needsAttachment ? [json] : [];
  const heatmap = renderHeatmap({
    title: `xnode check ${report.cluster}: pod to pod`,
    nodes: report.nodes.map((n) => n.name),
    matrix: report.matrix,
    faulty: [...new Set(problemsOf(report.findings).flatMap((f) => f.nodes))],
  });
  return [
    { filename: `${name}-matrix.png`, title: `Pod-to-pod matrix of ${report.cluster} (${report.nodes.length} nodes)`, content: heatmap.png },
    { filename: `${name}-matrix.csv`, title: `Pod-to-pod matrix of ${report.cluster} as CSV`, content: matrixCsv(report.matrix) },
    json,
  ];
}

// The whole pod-to-pod matrix of a cluster as one picture: rows are the
// sending node, columns the receiving one, a cell's colour its result. At
// scale a pixel stands for a block of nodes and shows the worst result in it;
// the nodes in failing pairs are named beside their rows.
import type { MatrixEntry } from "../../model/index.js";
import { encodePng, type Rgb } from "./encode-png.js";
import { drawText, GLYPH_HEIGHT, textWidth } from "./pixel-font.js";

const COLOURS = {
  background: [255, 255, 255],
  ok: [46, 160, 67],
  failed: [207, 34, 46],
  notProbed: [222, 222, 222],
  self: [120, 120, 120],
  text: [30, 30, 30],
  leader: [160, 160, 160],
} as const satisfies Record<string, Rgb>;
type Colour = keyof typeof COLOURS;
const PALETTE = Object.values(COLOURS);
const INDEX = Object.fromEntries(Object.keys(COLOURS).map((k, i) => [k, i])) as Record<Colour, number>;

/** the matrix's side in pixels is at most this; more nodes share a pixel */
const MAX_MATRIX_PX = 1200;
const MAX_CELL_PX = 12;
/** a failed cell is drawn at least this big */
const MIN_DOT_PX = 5;
/** at most this many nodes are named beside their rows */
const MAX_LABELS = 40;
const LINE = GLYPH_HEIGHT + 3;
const PAD = 6;

export interface Heatmap {
  png: Buffer;
  width: number;
  height: number;
  /** pixels per node side (1 when several nodes share a pixel) */
  cellPx: number;
  nodesPerPixel: number;
  /** the nodes named in the picture */
  labelled: string[];
  /** where the matrix's top-left cell is */
  origin: { x: number; y: number };
}

const POD_KINDS = new Set<MatrixEntry["kind"]>(["pod-icmp", "pod-tcp"]);

// A cell: 0 not probed, 1 ok, 2 failed (a pair fails when any of its pod probes failed).
function cellsOf(nodes: readonly string[], matrix: readonly MatrixEntry[]): Uint8Array {
  const index = new Map(nodes.map((n, i) => [n, i]));
  const cells = new Uint8Array(nodes.length * nodes.length);
  for (const e of matrix) {
    if (!POD_KINDS.has(e.kind)) continue;
    const from = index.get(e.from);
    const to = index.get(e.to);
    if (from === undefined || to === undefined) continue;
    const at = from * nodes.length + to;
    cells[at] = Math.max(cells[at]!, e.ok ? 1 : 2);
  }
  return cells;
}

/** Per node: pairs it is in that were probed, and that failed. */
function tallies(nodes: readonly string[], cells: Uint8Array): { probed: number[]; failed: number[] } {
  const n = nodes.length;
  const probed = new Array<number>(n).fill(0);
  const failed = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = cells[i * n + j];
      if (!v) continue;
      probed[i]!++;
      probed[j]!++;
      if (v === 2) {
        failed[i]!++;
        failed[j]!++;
      }
    }
  return { probed, failed };
}

/**
 * The faulty nodes: those the findings name, and those in which most probed
 * pairs failed (a healthy peer of one broken node fails only its pair with it).
 */
function faultyNodes(nodes: readonly string[], cells: Uint8Array, named: readonly string[]): { faulty: string[]; inFailures: number } {
  const { probed, failed } = tallies(nodes, cells);
  const ratio = (i: number) => (probed[i] ? failed[i]! / probed[i]! : 0);
  const suspects = nodes.map((_, i) => i).filter((i) => named.includes(nodes[i]!) || ratio(i) >= 0.5);
  const faulty = suspects
    .sort((a, b) => Number(named.includes(nodes[b]!)) - Number(named.includes(nodes[a]!)) || ratio(b) - ratio(a) || a - b)
    .slice(0, MAX_LABELS)
    .sort((a, b) => a - b)
    .map((i) => nodes[i]!);
  return { faulty, inFailures: failed.filter((f) => f > 0).length };
}

export function renderHeatmap(input: {
  title: string;
  nodes: readonly string[];
  matrix: readonly MatrixEntry[];
  /** nodes the findings name: always labelled */
  faulty?: readonly string[];
}): Heatmap {
  const nodes = [...input.nodes].sort();
  const n = Math.max(1, nodes.length);
  const cells = cellsOf(nodes, input.matrix);
  const { faulty: labelled, inFailures } = faultyNodes(nodes, cells, input.faulty ?? []);

  const nodesPerPixel = Math.ceil(n / MAX_MATRIX_PX);
  const cellPx = nodesPerPixel > 1 ? 1 : Math.max(1, Math.min(MAX_CELL_PX, Math.floor(MAX_MATRIX_PX / n)));
  const side = nodesPerPixel > 1 ? Math.ceil(n / nodesPerPixel) : n * cellPx;
  const labelWidth = labelled.length ? Math.max(...labelled.map(textWidth)) + 3 * PAD : PAD;
  const legend = [
    ["ok", "ok"],
    ["failed", "failed"],
    ["notProbed", "not probed"],
    ["self", "same node"],
  ] as const;
  const footer = [
    `rows: from node. columns: to node. ${nodes.length} nodes${nodesPerPixel > 1 ? `, ${nodesPerPixel} per pixel (red if any pair in it failed)` : ""}`,
    `${inFailures} nodes in failing pairs. named: the nodes most of whose pairs failed${input.faulty?.length ? " and those the findings name" : ""}`,
  ];
  const top = PAD + LINE + PAD;
  const left = labelWidth;
  const legendWidth = legend.reduce((w, [, text]) => w + LINE + textWidth(text) + 3 * PAD, 0);
  const width = Math.max(left + side + PAD, PAD + Math.max(textWidth(input.title), legendWidth, ...footer.map(textWidth)) + PAD);
  const height = top + Math.max(side, labelled.length * LINE) + PAD + (1 + footer.length) * (LINE + 2) + PAD;
  const pixels = new Uint8Array(width * height); // 0 = background
  const set = (colour: Colour) => (x: number, y: number) => {
    if (x >= 0 && y >= 0 && x < width && y < height) pixels[y * width + x] = INDEX[colour];
  };
  const fill = (x: number, y: number, w: number, h: number, colour: Colour) => {
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) set(colour)(xx, yy);
  };

  drawText(input.title, PAD, PAD, set("text"));
  // the matrix
  const failedCells: [number, number][] = [];
  for (let py = 0; py < side / cellPx; py++) {
    for (let px = 0; px < side / cellPx; px++) {
      let failed = false;
      let ok = false;
      let unprobed = false;
      for (let i = py * nodesPerPixel; i < Math.min(n, (py + 1) * nodesPerPixel); i++)
        for (let j = px * nodesPerPixel; j < Math.min(n, (px + 1) * nodesPerPixel); j++) {
          if (i === j) continue;
          const v = cells[i * n + j];
          failed ||= v === 2;
          ok ||= v === 1;
          unprobed ||= v === 0;
        }
      // one failure in a block colours it: a faulty node must show at any scale
      const colour: Colour = failed ? "failed" : ok ? "ok" : unprobed ? "notProbed" : "self";
      fill(left + px * cellPx, top + py * cellPx, cellPx, cellPx, colour);
      if (failed) failedCells.push([px, py]);
    }
  }
  // Tiny cells: a failure is drawn larger than its cell, on top, so a sampled 1-pixel failure stays visible.
  const dot = cellPx >= MIN_DOT_PX ? 0 : Math.floor((MIN_DOT_PX - cellPx) / 2);
  if (dot) for (const [px, py] of failedCells) fill(left + px * cellPx - dot, top + py * cellPx - dot, cellPx + 2 * dot, cellPx + 2 * dot, "failed");
  // names beside their rows, pushed apart where rows are closer than a line, joined by a leader
  let nextY = top;
  for (const node of labelled) {
    const row = Math.floor(nodes.indexOf(node) / nodesPerPixel) * cellPx + Math.floor(cellPx / 2);
    const y = Math.max(nextY, top + row - Math.floor(GLYPH_HEIGHT / 2));
    drawText(node, PAD, y, set("text"));
    line(PAD + textWidth(node) + 2, y + Math.floor(GLYPH_HEIGHT / 2), left - 2, top + row, set("leader"));
    // a tick on the matrix's top edge marks the same node's column
    const column = left + Math.floor(nodes.indexOf(node) / nodesPerPixel) * cellPx;
    fill(column - (cellPx < 3 ? 1 : 0), top - 4, Math.max(3, cellPx), 3, "failed");
    nextY = y + LINE;
  }
  // legend and footer
  let y = top + Math.max(side, labelled.length * LINE) + PAD;
  let x = PAD;
  for (const [colour, text] of legend) {
    fill(x, y, GLYPH_HEIGHT, GLYPH_HEIGHT, colour);
    drawText(text, x + GLYPH_HEIGHT + PAD, y, set("text"));
    x += GLYPH_HEIGHT + PAD + textWidth(text) + 2 * PAD;
  }
  for (const text of footer) {
    y += LINE + 2;
    drawText(text, PAD, y, set("text"));
  }
  return { png: encodePng({ width, height, palette: PALETTE, pixels }), width, height, cellPx, nodesPerPixel, labelled, origin: { x: left, y: top } };
}

/** Bresenham's line from (x0, y0) to (x1, y1). */
function line(x0: number, y0: number, x1: number, y1: number, set: (x: number, y: number) => void): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    set(x0, y0);
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

// The matrix as a PNG: decoded here independently of the encoder (chunk CRCs,
// inflate, scanline filters) and read back pixel by pixel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32, inflateSync } from "node:zlib";
import type { MatrixEntry } from "../../src/model/index.js";
import { renderHeatmap } from "../../src/slack/heatmap/render-heatmap.js";

interface Decoded {
  width: number;
  height: number;
  rgb(x: number, y: number): [number, number, number];
}

function decodePng(png: Buffer): Decoded {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  let at = 8;
  const chunks: { type: string; data: Buffer }[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString("ascii", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(png.readUInt32BE(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)) >>> 0, `CRC of ${type}`);
    chunks.push({ type, data });
    at += 12 + length;
  }
  assert.deepEqual(
    chunks.map((c) => c.type),
    ["IHDR", "PLTE", "IDAT", "IEND"],
  );
  const ihdr = chunks[0]!.data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  assert.deepEqual([...ihdr.subarray(8)], [8, 3, 0, 0, 0], "8-bit palette, no interlace");
  const palette = chunks[1]!.data;
  const raw = inflateSync(chunks[2]!.data);
  assert.equal(raw.length, (width + 1) * height);
  for (let y = 0; y < height; y++) assert.equal(raw[y * (width + 1)], 0, "filter type none");
  return {
    width,
    height,
    rgb(x, y) {
      const i = raw[y * (width + 1) + 1 + x]!;
      return [palette[i * 3]!, palette[i * 3 + 1]!, palette[i * 3 + 2]!];
    },
  };
}

const RED: [number, number, number] = [207, 34, 46];
const GREEN: [number, number, number] = [46, 160, 67];
const GREY: [number, number, number] = [222, 222, 222];

function cluster(n: number, broken: string[], peersPerNode = n - 1): { nodes: string[]; matrix: MatrixEntry[] } {
  const nodes = Array.from({ length: n }, (_, i) => `node-${String(i).padStart(4, "0")}`);
  const matrix: MatrixEntry[] = [];
  for (let i = 0; i < n; i++)
    for (let k = 1; k <= peersPerNode; k++) {
      const from = nodes[i]!;
      const to = nodes[(i + k) % n]!;
      matrix.push({ from, to, kind: "pod-icmp", ok: !broken.includes(from) && !broken.includes(to), target: "10.244.0.2" });
    }
  return { nodes, matrix };
}

test("a small cluster: one cell per pair, failing pairs red, the broken node named", () => {
  const { nodes, matrix } = cluster(6, ["node-0002"]);
  const map = renderHeatmap({ title: "lab: pod to pod", nodes, matrix });
  const img = decodePng(map.png);
  assert.equal(img.width, map.width);
  assert.deepEqual(map.labelled, ["node-0002"]);
  assert.equal(map.nodesPerPixel, 1);
  const { x: x0, y: y0 } = map.origin;
  const at = (from: number, to: number) => img.rgb(x0 + to * map.cellPx + 1, y0 + from * map.cellPx + 1);
  assert.deepEqual(at(0, 1), GREEN);
  assert.deepEqual(at(0, 2), RED);
  assert.deepEqual(at(2, 5), RED);
  assert.deepEqual(at(4, 5), GREEN);
});

test("pairs nobody probed are grey, not green", () => {
  const { nodes, matrix } = cluster(8, [], 1); // each node probes only its next neighbour
  const map = renderHeatmap({ title: "sampled", nodes, matrix });
  const img = decodePng(map.png);
  const { x: x0, y: y0 } = map.origin;
  const at = (from: number, to: number) => img.rgb(x0 + to * map.cellPx + 1, y0 + from * map.cellPx + 1);
  assert.deepEqual(at(0, 1), GREEN);
  assert.deepEqual(at(0, 3), GREY);
  assert.deepEqual(map.labelled, []);
});

test("5,000 nodes fit one picture; a node whose pairs fail is still red and named", () => {
  const { nodes, matrix } = cluster(5000, ["node-4000"], 3);
  const map = renderHeatmap({ title: "synth-5000", nodes, matrix, faulty: ["node-1234"] });
  assert.ok(map.width <= 1300 && map.height <= 1300, `${map.width}×${map.height}`);
  assert.equal(map.nodesPerPixel, 5);
  assert.deepEqual(map.labelled, ["node-1234", "node-4000"], "named by the findings, or by most of its pairs failing");
  const img = decodePng(map.png);
  const { x: x0, y: y0 } = map.origin;
  // node-3999 → node-4000 failed: its block (row 799, column 800) is red
  assert.deepEqual(img.rgb(x0 + 800, y0 + 799), RED);
  assert.deepEqual(img.rgb(x0 + 101, y0 + 100), GREEN);
  assert.ok(map.png.length < 200_000, `${map.png.length} bytes`);
});

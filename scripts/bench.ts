// npm run bench: the whole path at scale, as DESIGN.md ("Bench") defines it —
// a signed /xnode check into the real bot, BullMQ on a private Redis, worker
// processes, a synthetic cluster answering after --exec-latency-ms — for each
// --nodes size. Prints a table (or --json); asserts nothing.
//   npm run --silent bench -- --nodes 10,100,1000 --exec-latency-ms 50 --json
//   --faults two: one node drops UDP 8472, another has FORWARD policy DROP
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { measureCheck, type BenchRun } from "./bench/measure-check.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "10,100,1000,5000" },
    "exec-latency-ms": { type: "string", default: "50" },
    workers: { type: "string", default: "2" },
    "in-flight": { type: "string", default: "200" },
    faults: { type: "string", default: "none" },
    json: { type: "boolean", default: false },
  },
});
const sizes = values.nodes.split(",").map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`--nodes wants sizes like 10,100,1000, not "${values.nodes}"`);
if (values.faults !== "none" && values.faults !== "two") throw new Error(`--faults is none or two, not "${values.faults}"`);

const nodeName = (i: number) => `node-${String(i).padStart(4, "0")}`;
const faultsFor = (n: number) =>
  values.faults === "two"
    ? [
        { kind: "drop-udp", node: nodeName(Math.floor(n / 4)), port: 8472 },
        { kind: "forward-policy-drop", node: nodeName(Math.floor((3 * n) / 4)) },
      ]
    : [];

// The processes run as production runs them: the compiled dist/, not the source through tsx.
process.stderr.write("bench: npm run build\n");
execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });

const runs: BenchRun[] = [];
for (const nodes of sizes) {
  runs.push(
    await measureCheck({
      nodes,
      execLatencyMs: Number(values["exec-latency-ms"]),
      workers: Number(values.workers),
      inFlight: Number(values["in-flight"]),
      faults: faultsFor(nodes),
      progress: (line) => process.stderr.write(`bench: ${line}\n`),
    }),
  );
}

if (values.json) {
  console.log(JSON.stringify({ runs }, null, 2));
} else {
  const columns: [string, (r: BenchRun) => string | number][] = [
    ["nodes", (r) => r.nodes],
    ["wall ms", (r) => r.wallMs],
    ["bound ms", (r) => r.lowerBoundMs],
    ["ratio", (r) => r.ratio],
    ["execs", (r) => r.execCalls],
    ["redis cmds", (r) => r.redisCommands],
    ["redis KiB", (r) => Math.round(r.redisBytes / 1024)],
    ["bot MiB", (r) => r.peakRssMiB.bot],
    ["worker MiB", (r) => r.peakRssMiB.worker],
    ["msgs", (r) => r.slackMessages],
    ["max text", (r) => r.maxMessageTextChars],
    ["ack p50", (r) => r.ackP50Ms],
    ["ack p99", (r) => r.ackP99Ms],
    ["warm-up p99", (r) => r.warmUpAckP99Ms],
    ["findings", (r) => r.findings.join(" ")],
  ];
  const rows = [columns.map(([h]) => h), ...runs.map((r) => columns.map(([, f]) => String(f(r))))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(
    [
      `exec latency ${values["exec-latency-ms"]} ms, ${values.workers} workers, ${values["in-flight"]} commands in flight for the ack figures (after as many /xnode help; see measure-check.ts)`,
      line(rows[0]!),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
      ...rows.slice(1).map(line),
    ].join("\n"),
  );
}

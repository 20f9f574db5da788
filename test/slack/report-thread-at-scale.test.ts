// The report thread of a large cluster end to end: a signed /xnode check to the
// real bot, the real worker, Redis, a synthetic lab cluster with two broken
// nodes, and the emulated workspace that refuses what Slack refuses. The thread
// has a few messages within Slack's limits, names both broken nodes with their
// causes, and carries the matrix as a PNG and CSV beside the full report.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { Lab, parseScenario } from "@xnode/lab";
import { problemsOf, type CheckReport } from "../../src/model/index.js";
import { renderHeatmap } from "../../src/slack/heatmap/render-heatmap.js";
import { checkAndWait, textOf } from "../helpers/slack-flow.js";
import { REDIS_URL, scanKeys, startXnode, type XnodeUnderTest } from "../helpers/xnode-fixture.js";
import { blocksTextLength } from "./emulator/block-kit-limits.js";
import { startSlackEmulator, type SlackEmulator } from "./emulator.js";

const NODES = 300;
const CHANNEL = "C0SCALE01";
const UDP_DROP = "node-0100";
const FORWARD_DROP = "node-0200";

/** A PNG's size from its IHDR chunk (the first after the signature). */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  assert.equal(png.toString("ascii", 12, 16), "IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe(`the report thread of a ${NODES}-node synthetic cluster with two broken nodes`, () => {
  let lab: Lab;
  let dir: string;
  let emulator: SlackEmulator;
  let xnode: XnodeUnderTest;
  before(async () => {
    const scenario = parseScenario({
      name: `thread-${NODES}`,
      synthetic: { nodes: NODES, execLatencyMs: 5 },
      flannel: { network: "10.0.0.0/8" },
      faults: [
        { kind: "drop-udp", node: UDP_DROP, port: 8472 },
        { kind: "forward-policy-drop", node: FORWARD_DROP },
      ],
    });
    lab = await Lab.start(scenario, { name: `thread-${NODES}-${randomBytes(2).toString("hex")}` });
    dir = await mkdtemp(join(tmpdir(), "xnode-thread-"));
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, lab.kubeconfig, { mode: 0o600 });
    emulator = await startSlackEmulator({ channels: { [CHANNEL]: { member: true } } });
    xnode = await startXnode({ emulator, clusters: [{ name: "synth", kubeconfig }] });
  });
  after(async () => {
    await xnode?.stop();
    await emulator?.close();
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a few messages within Slack's limits, the broken nodes named with their causes, the picture and CSV beside the report", async () => {
    const started = Date.now();
    const { root, replies } = await checkAndWait(emulator, xnode.botUrl, { cluster: "synth", user: "U0ALICE01", channel: CHANNEL, causes: 2 });
    // the files are shared after the messages: wait for the message carrying them
    const thread = await emulator.waitFor(() => {
      const all = emulator.thread(CHANNEL, root.ts).slice(1);
      return all.some((m) => m.files?.length) ? all : undefined;
    }, 60_000);
    const largest = Math.max(...thread.map((m) => blocksTextLength(m.blocks)));
    console.log(
      `${NODES} nodes: ${thread.length} thread messages (the last carries 3 files), largest block text ${largest} characters, ${Date.now() - started} ms`,
    );
    assert.ok(replies.length >= 4);
    assert.equal(thread.length, 5, "summary, connectivity, one message per cause, the files");
    assert.ok(largest < 11_000, `largest block text ${largest}`);
    const refused = emulator.calls.filter((c) => c.error && c.status === 200).map((c) => `${c.method}: ${c.error}`);
    assert.deepEqual(refused, [], "no refusal (msg_blocks_too_long, invalid_blocks, …)");

    const connectivity = textOf(thread[1]!);
    console.log(`${NODES} nodes, connectivity message:\n${thread[1]!.blocks?.map((b) => JSON.stringify(b)).join("\n")}`);
    for (const [node, cause] of [
      [UDP_DROP, "udp-vxlan-blocked"],
      [FORWARD_DROP, "forward-policy-drop"],
    ] as const) {
      assert.match(connectivity, new RegExp(`\\*${node}\\*: \\d+/\\d+ of its probed pairs fail \\(\\d+ to it, \\d+ from it\\): \\*${cause}\\*`));
      assert.ok(thread.some((m) => textOf(m).includes(cause) && textOf(m).includes(node)));
    }
    assert.doesNotMatch(connectivity, /node-0000/, "healthy peers of the broken nodes are not listed");

    const files = emulator.files(CHANNEL);
    assert.deepEqual(
      files.map((f) => f.name),
      ["xnode-synth-matrix.png", "xnode-synth-matrix.csv", "xnode-synth-report.json"],
    );
    assert.ok(files.every((f) => f.thread_ts === root.ts));
    const report = JSON.parse(files[2]!.content) as CheckReport;
    assert.equal(report.nodes.length, NODES);
    const heatmap = renderHeatmap({
      title: "xnode check synth: pod to pod",
      nodes: report.nodes.map((n) => n.name),
      matrix: report.matrix,
      faulty: problemsOf(report.findings).flatMap((f) => f.nodes),
    });
    assert.ok(heatmap.labelled.includes(UDP_DROP) && heatmap.labelled.includes(FORWARD_DROP), `labelled: ${heatmap.labelled.join(", ")}`);
    assert.deepEqual(files[0]!.bytes, heatmap.png, "the PNG arrives byte for byte as rendered");
    const size = pngSize(files[0]!.bytes);
    assert.deepEqual(size, { width: heatmap.width, height: heatmap.height });
    const csv = files[1]!.content.trimEnd().split("\r\n");
    assert.equal(csv[0], "from,to,kind,ok,rttMs,error");
    assert.equal(csv.length, report.matrix.length + 1);
    assert.ok(
      csv.some((line) => line.split(",")[1] === UDP_DROP && line.split(",")[3] === "false"),
      "a failing pair to the broken node",
    );
    console.log(
      `${NODES} nodes: PNG ${size.width}x${size.height}, ${files[0]!.bytes.length} bytes; CSV ${files[1]!.bytes.length} bytes, JSON ${files[2]!.bytes.length} bytes`,
    );
  });

  it("the evidence is stored once, compacted, with the report's TTL, and the jobs carry node names, not evidence", async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const [checkKey] = await scanKeys(redis, `${xnode.prefix}:check:*:hosts`);
      assert.ok(checkKey, "the check's host evidence is in Redis");
      const base = checkKey.slice(0, -":hosts".length);
      const hosts = await redis.hgetall(`${base}:hosts`);
      const reach = await redis.hlen(`${base}:reach`);
      assert.equal(Object.keys(hosts).length, NODES);
      assert.equal(reach, NODES);
      const ttl = await redis.ttl(`${base}:hosts`);
      assert.ok(ttl > 6 * 24 * 3600 && ttl <= 7 * 24 * 3600, `TTL ${ttl} s, the report's 7 days`);
      // uncompacted, a node of 300 lists ~900 per-peer entries (~80 KB); as templates it keeps a few
      const bytes = Object.values(hosts).reduce((sum, v) => sum + v.length, 0);
      assert.ok(bytes / NODES < 20_000, `${Math.round(bytes / NODES)} bytes of host evidence per node`);
      assert.ok(Object.values(hosts).every((v) => v.includes('"overlay"')));

      // BullMQ keeps each job as a hash with its name and data beside the queue's own keys (id, meta, events, …)
      const queueKeys = (await scanKeys(redis, `${xnode.prefix}:xnode-check:*`)).filter((k) => /:xnode-check:[^:]+$/.test(k));
      const jobKeys = (await Promise.all(queueKeys.map(async (k) => ((await redis.type(k)) === "hash" && (await redis.hexists(k, "data")) ? [k] : [])))).flat();
      const jobs = await Promise.all(jobKeys.map(async (k) => ({ name: await redis.hget(k, "name"), data: (await redis.hget(k, "data")) ?? "" })));
      const steps = jobs.filter((j) => j.name?.startsWith("check-"));
      const count = (name: string) => steps.filter((j) => j.name === name).length;
      assert.ok(count("check-inspect") >= 2 && count("check-inspect") <= 32, `${count("check-inspect")} inspect jobs for ${NODES} nodes`);
      assert.ok(count("check-reach") >= 2 && count("check-reach") <= 32, `${count("check-reach")} reach jobs`);
      for (const job of steps) {
        assert.doesNotMatch(job.data, /"(routes|fdb|neighbours|iptablesBackends|snapshot|hosts)"/, `${job.name} carries evidence`);
      }
      const jobBytes = steps.reduce((sum, j) => sum + j.data.length, 0);
      console.log(`${NODES} nodes: ${steps.length} check jobs, ${jobBytes} bytes of job data; host evidence ${bytes} bytes in Redis`);
    } finally {
      redis.disconnect();
    }
  });
});

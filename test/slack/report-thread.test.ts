// A finished check's thread as the worker posts it (slackCheckNotifier over
// the real WebClient), into an emulated workspace that enforces its text
// budget and rate limits: a 60-node report arrives whole, in order, without a
// refusal; a failed upload is said in the thread.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { LogLevel, WebClient } from "@slack/web-api";
import pino from "pino";
import { renderReportMessages } from "../../src/slack/render/render-report.js";
import { slackCheckNotifier } from "../../src/slack/slack-check-notifier.js";
import { webApiSlack } from "../../src/slack/slack-port.js";
import { renderHeatmap } from "../../src/slack/heatmap/render-heatmap.js";
import { problemsOf, type CheckRecord, type CheckReport } from "../../src/model/index.js";
import type { PostedMessage } from "../../src/slack/posts-once.js";
import { blocksTextLength } from "./emulator/block-kit-limits.js";
import { sampledReport, sixtyNodeReport } from "../slack-render/report-fixtures.js";
import { MANIFEST_SCOPES, UPLOAD_STEP, startSlackEmulator, type SlackEmulator } from "./emulator.js";

const CHANNEL = "C0SIXTY01";

/** A PNG's size from its IHDR chunk (the first after the signature). */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  assert.equal(png.toString("ascii", 12, 16), "IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const heatmapInput = (report: CheckReport) => ({
  title: `xnode check ${report.cluster}: pod to pod`,
  nodes: report.nodes.map((n) => n.name),
  matrix: report.matrix,
  faulty: [...new Set(problemsOf(report.findings).flatMap((f) => f.nodes))],
});
const silent = pino({ level: "silent" });
// The retry policy the bot and worker use (src/processes/shared-services.ts).
const retryConfig = { retries: 5, factor: 2, minTimeout: 200, maxTimeout: 5000 };

async function postRoot(emulator: SlackEmulator, report: CheckReport = sixtyNodeReport): Promise<CheckRecord> {
  const web = new WebClient("xoxb-worker", { slackApiUrl: emulator.url, retryConfig, logLevel: LogLevel.ERROR });
  const root = await web.chat.postMessage({ channel: CHANNEL, text: "Checking cluster-sixty…" });
  return {
    id: "c0ffee00-0000-4000-8000-000000000060",
    cluster: report.cluster,
    requestId: "r60",
    requestedBy: "U0ALICE01",
    channel: CHANNEL,
    rootTs: root.ts!,
    status: "running",
    startedAt: sixtyNodeReport.startedAt,
  };
}

function notifierFor(emulator: SlackEmulator, ledger?: Map<string, PostedMessage>) {
  const web = new WebClient("xoxb-worker", { slackApiUrl: emulator.url, retryConfig, logLevel: LogLevel.ERROR });
  const posts = ledger && { get: async (slot: string) => ledger.get(slot), set: async (slot: string, p: PostedMessage) => void ledger.set(slot, p) };
  return slackCheckNotifier(webApiSlack(web), silent, posts);
}

describe("a 60-node report thread in a rate-limited workspace", () => {
  let emulator: SlackEmulator;
  before(async () => {
    // One message at a time per channel (no burst): every reply past the first is rate limited first.
    emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} }, rateLimits: { postBurst: 1 } });
  });
  after(() => emulator.close());
  beforeEach(() => emulator.reset());

  it("arrives complete and in order, each message within Slack's limits, with the full report attached", async () => {
    const check = await postRoot(emulator);
    const started = Date.now();
    await notifierFor(emulator).finished(check, sixtyNodeReport, []);
    const expected = renderReportMessages(sixtyNodeReport).map((m) => m.text);
    const thread = emulator.thread(CHANNEL, check.rootTs!).slice(1);
    assert.deepEqual(
      thread.map((m) => m.text),
      [...expected, ""],
      "summary, matrix, each cause in order, then the file",
    );
    const files = emulator.files(CHANNEL);
    assert.deepEqual(
      files.map((f) => f.name),
      ["xnode-cluster-sixty-matrix.png", "xnode-cluster-sixty-matrix.csv", "xnode-cluster-sixty-report.json"],
      "more nodes than the grid shows: the matrix as a picture and CSV beside the report",
    );
    assert.ok(files.every((f) => f.thread_ts === check.rootTs));
    const heatmap = renderHeatmap(heatmapInput(sixtyNodeReport));
    assert.deepEqual(pngSize(files[0]!.bytes), { width: heatmap.width, height: heatmap.height });
    assert.deepEqual(files[0]!.bytes, heatmap.png, "the PNG's bytes arrive intact");
    assert.equal(files[1]!.content.split("\r\n")[0], "from,to,kind,ok,rttMs,error");
    assert.equal(files[1]!.content.trimEnd().split("\r\n").length, sixtyNodeReport.matrix.length + 1);
    assert.deepEqual(JSON.parse(files[2]!.content), sixtyNodeReport);
    const posts = emulator.callsOf("chat.postMessage");
    assert.deepEqual(
      posts.filter((c) => c.status === 200 && c.error).map((c) => c.error),
      [],
      "no refusal (msg_blocks_too_long, invalid_blocks)",
    );
    const limited = posts.filter((c) => c.status === 429).length;
    assert.ok(limited >= expected.length - 1, `the workspace rate-limited ${limited} posts`);
    assert.ok(Date.now() - started >= (expected.length - 1) * 1000, "paced at one message a second");
  });

  it("says in the thread when the full report could not be attached, and where it is", async () => {
    const other = await startSlackEmulator({ channels: { [CHANNEL]: {} }, scopes: MANIFEST_SCOPES.filter((s) => s !== "files:write") });
    try {
      const check = await postRoot(other);
      await notifierFor(other).finished(check, sixtyNodeReport, []);
      const last = other.thread(CHANNEL, check.rootTs!).at(-1)!;
      const text = JSON.stringify(last.blocks);
      assert.match(last.text, /the full report could not be attached/);
      assert.match(text, /xnode lacks the files:write scope/);
      assert.match(text, new RegExp(`xnode report ${check.id} --json`));
      assert.equal(other.files().length, 0);
    } finally {
      await other.close();
    }
  });

  it("says it too when the upload itself fails after retries", async () => {
    const check = await postRoot(emulator);
    // every attempt of every file's upload fails (three files, each tried 1 + 5 times)
    emulator.failNext(UPLOAD_STEP, { status: 503 }, 18);
    await notifierFor(emulator).finished(check, sixtyNodeReport, []);
    const last = emulator.thread(CHANNEL, check.rootTs!).at(-1)!;
    assert.match(last.text, /the full report could not be attached/);
    assert.match(JSON.stringify(last.blocks), /503/);
    assert.match(JSON.stringify(last.blocks), /xnode-cluster-sixty-matrix\.png, xnode-cluster-sixty-matrix\.csv, xnode-cluster-sixty-report\.json/);
  });

  it("a 1000-node sampled report: a few messages within Slack's limits, the broken nodes named by cause, the picture beside them; posted once when the step runs again", async () => {
    const report = sampledReport(1000);
    const check = await postRoot(emulator, report);
    const ledger = new Map<string, PostedMessage>();
    await notifierFor(emulator, ledger).finished(check, report, []);
    await notifierFor(emulator, ledger).finished(check, report, []);
    const thread = emulator.thread(CHANNEL, check.rootTs!).slice(1);
    const largest = Math.max(...thread.map((m) => blocksTextLength(m.blocks)));
    console.log(`1000 nodes: ${thread.length} thread messages (the last carries the files), largest block text ${largest} characters`);
    assert.equal(thread.length, 5, "summary, connectivity, two causes, the files");
    assert.ok(largest < 11_000, `largest block text ${largest}`);
    const connectivity = JSON.stringify(thread[1]!.blocks);
    assert.match(connectivity, /\*synth-0333\*: 1998\/1998 of its probed pairs fail \(999 to it, 999 from it\): \*udp-vxlan-blocked\*/);
    assert.match(connectivity, /\*synth-0666\*: 1998\/1998 of its probed pairs fail \(999 to it, 999 from it\): \*forward-policy-drop\*/);
    assert.doesNotMatch(connectivity, /synth-0000/, "the healthy peers of the broken nodes are not listed");
    const files = emulator.files(CHANNEL);
    assert.deepEqual(
      files.map((f) => f.name),
      ["xnode-synth-1000-matrix.png", "xnode-synth-1000-matrix.csv", "xnode-synth-1000-report.json"],
      "uploaded once",
    );
    const heatmap = renderHeatmap(heatmapInput(report));
    assert.deepEqual(heatmap.labelled, ["synth-0333", "synth-0666"]);
    assert.deepEqual(pngSize(files[0]!.bytes), { width: heatmap.width, height: heatmap.height });
    console.log(`1000 nodes: PNG ${heatmap.width}x${heatmap.height}, ${files[0]!.bytes.length} bytes; CSV ${files[1]!.bytes.length} bytes`);
  });
});

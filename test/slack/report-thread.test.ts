// A finished check's thread as the worker posts it (slackCheckNotifier over
// the real WebClient), into an emulated workspace that enforces its text
// budget and rate limits: a 60-node report arrives whole, in order, without a
// refusal; a failed upload is said in the thread.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { LogLevel, WebClient } from "@slack/web-api";
import pino from "pino";
import type { CheckRecord } from "../../src/model/index.js";
import { renderReportMessages } from "../../src/slack/render/render-report.js";
import { slackCheckNotifier } from "../../src/slack/slack-check-notifier.js";
import { webApiSlack } from "../../src/slack/slack-port.js";
import { sixtyNodeReport } from "../slack-render/report-fixtures.js";
import { MANIFEST_SCOPES, UPLOAD_STEP, startSlackEmulator, type SlackEmulator } from "./emulator.js";

const CHANNEL = "C0SIXTY01";
const silent = pino({ level: "silent" });
// The retry policy the bot and worker use (src/processes/shared-services.ts).
const retryConfig = { retries: 5, factor: 2, minTimeout: 200, maxTimeout: 5000 };

async function postRoot(emulator: SlackEmulator): Promise<CheckRecord> {
  const web = new WebClient("xoxb-worker", { slackApiUrl: emulator.url, retryConfig, logLevel: LogLevel.ERROR });
  const root = await web.chat.postMessage({ channel: CHANNEL, text: "Checking cluster-sixty…" });
  return {
    id: "c0ffee00-0000-4000-8000-000000000060",
    cluster: sixtyNodeReport.cluster,
    requestId: "r60",
    requestedBy: "U0ALICE01",
    channel: CHANNEL,
    rootTs: root.ts!,
    status: "running",
    startedAt: sixtyNodeReport.startedAt,
  };
}

function notifierFor(emulator: SlackEmulator) {
  const web = new WebClient("xoxb-worker", { slackApiUrl: emulator.url, retryConfig, logLevel: LogLevel.ERROR });
  return slackCheckNotifier(webApiSlack(web), silent);
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
    assert.equal(emulator.files(CHANNEL)[0]?.name, "xnode-cluster-sixty-report.json");
    assert.deepEqual(JSON.parse(emulator.files(CHANNEL)[0]!.content), sixtyNodeReport);
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
    emulator.failNext(UPLOAD_STEP, { status: 503 }, 10);
    await notifierFor(emulator).finished(check, sixtyNodeReport, []);
    const last = emulator.thread(CHANNEL, check.rootTs!).at(-1)!;
    assert.match(last.text, /the full report could not be attached/);
    assert.match(JSON.stringify(last.blocks), /503/);
  });
});

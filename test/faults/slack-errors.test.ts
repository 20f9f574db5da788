// Slack answering 429 (with and without Retry-After) and 5xx while xnode posts
// a check's report: every message arrives once, in order, none twice.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Fault } from "../slack/emulator.js";
import { duplicates, printFigures, startFaultRig, summaries, type FaultRig } from "./fault-rig.js";
import { startPrivateRedis, type RedisProcess } from "./private-redis.js";

let redis: RedisProcess;
let rig: FaultRig;
let baseline: { texts: string[]; seconds: number };
before(async () => {
  redis = await startPrivateRedis();
  rig = await startFaultRig({ redisUrl: redis.url });
  const t0 = Date.now();
  const { replies } = await rig.settled(await rig.requestCheck(), 60_000);
  baseline = { texts: replies.map((m) => m.text), seconds: (Date.now() - t0) / 1000 };
});
after(async () => {
  await rig?.stop();
  await redis?.stop();
});

/** A check whose report posts and edits meet `faults` (queued once the root message is out). */
async function checkThrough(faults: [method: string, fault: Fault, times: number][]) {
  const t0 = Date.now();
  const recorded = rig.emulator.calls.length;
  const root = await rig.requestCheck();
  for (const [method, fault, times] of faults) rig.emulator.failNext(method, fault, times);
  const { root: final, replies } = await rig.settled(root, 90_000);
  // The emulator's own rate limits may add 429s of their own.
  const errorAnswers = rig.emulator.calls.slice(recorded).filter((c) => c.error === "ratelimited" || c.error?.startsWith("http_")).length;
  const texts = replies.map((m) => m.text);
  return {
    final,
    replies,
    figures: {
      faultsInjected: faults.reduce((n, [, , times]) => n + times, 0),
      errorAnswers,
      messagesLost: baseline.texts.filter((t) => !texts.includes(t)).length,
      duplicates: duplicates(replies),
      seconds: (Date.now() - t0) / 1000,
      baselineSeconds: baseline.seconds,
    },
  };
}

function assertComplete(r: Awaited<ReturnType<typeof checkThrough>>) {
  assert.match(r.final.text, /^xnode: lab healthy/);
  assert.ok(r.figures.errorAnswers >= r.figures.faultsInjected, `only ${r.figures.errorAnswers} of the ${r.figures.faultsInjected} faults were met`);
  assert.deepEqual(
    r.replies.map((m) => m.text),
    baseline.texts,
    "the same report as without faults, in order",
  );
  assert.equal(summaries(r.replies), 1);
  assert.equal(r.figures.duplicates, 0);
}

test("429 with Retry-After, 500, 502 and 503 while the report is posted: retried, every message once", { timeout: 120_000 }, async () => {
  const r = await checkThrough([
    ["chat.postMessage", { status: 429, retryAfter: 1 }, 1],
    ["chat.postMessage", { status: 500 }, 1],
    ["chat.postMessage", { status: 503 }, 1],
    ["chat.update", { status: 502 }, 1],
  ]);
  assertComplete(r);
  printFigures({ fault: "Slack 429 with Retry-After, 500, 502, 503", ...r.figures });
});

test("429 without Retry-After while the report is posted: retried, every message once", { timeout: 120_000 }, async () => {
  const r = await checkThrough([["chat.postMessage", { status: 429 }, 2]]);
  assertComplete(r);
  printFigures({ fault: "Slack 429 without Retry-After", ...r.figures });
});

// Bad input against the real bot: 1,000+ generated slash-command texts and
// 500+ interactive payloads (mangled, misplaced, replayed, forged) through
// signed HTTP requests into Bolt, with real Redis behind it. Nothing may crash,
// run a shell, or change state; every answer is a usage error, a refusal or a 401.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { parseCommand } from "../../src/handlers/parse-command.js";
import type { SlackMessage } from "../../src/slack/render/blocks.js";
import { ApprovalStore } from "../../src/store/approval-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { REDIS_URL, scanKeys, SIGNING_SECRET, startXnode, type XnodeUnderTest } from "../helpers/xnode-fixture.js";
import { startSlackEmulator, type SlackEmulator } from "../slack/emulator.js";
import { pollUntil } from "../slack/poll-until.js";
import { startResponseUrlSink, type ResponseUrlSink } from "../slack/response-url-sink.js";
import { postBlockAction, postSlashCommand, type BotResponse } from "../slack/signed-request.js";
import { validateMessage } from "../slack-render/validate-message.js";
import { interactiveCorpus, slashCommandCorpus, type InteractiveCase, type KnownApproval } from "./bad-input-corpus.js";

const CLUSTERS = ["cluster-a", "cluster-b"];
const CHANNEL = "C0NETOPS1";
const APPROVER = "U0APPROVE1";
const STRANGER = "U0STRANGE1";
const IN_FLIGHT = 25;

/** Every key under the prefix with a digest of its content: what "no state change" compares. */
async function stateOf(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for (const key of await scanKeys(redis, `${prefix}:*`)) {
    const type = await redis.type(key);
    const value =
      type === "string"
        ? await redis.get(key)
        : type === "hash"
          ? JSON.stringify(await redis.hgetall(key))
          : type === "list"
            ? JSON.stringify(await redis.lrange(key, 0, -1))
            : type === "zset"
              ? JSON.stringify(await redis.call("ZRANGE", key, "0", "-1", "WITHSCORES"))
              : type === "set"
                ? JSON.stringify((await redis.smembers(key)).sort())
                : type === "stream"
                  ? JSON.stringify(await redis.xrange(key, "-", "+"))
                  : type;
    state.set(key, `${type}:${value}`);
  }
  return state;
}

/** Keys added or changed between two states; audit streams may only gain "refused" entries. */
function stateChanges(before: Map<string, string>, now: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [key, value] of now) {
    if (before.get(key) === value) continue;
    if (/:audit:/.test(key) && value.startsWith("stream:")) {
      const entries = JSON.parse(value.slice("stream:".length)) as [string, string[]][];
      const old = new Set(before.has(key) ? (JSON.parse(before.get(key)!.slice("stream:".length)) as [string, string[]][]).map(([id]) => id) : []);
      const added = entries.filter(([id]) => !old.has(id));
      const notRefusals = added.filter(([, fields]) => fields[fields.indexOf("event") + 1] !== "refused");
      if (notRefusals.length === 0) continue;
      changes.push(`${key}: audit gained ${notRefusals.map(([, f]) => f.join(" ")).join("; ")}`);
      continue;
    }
    changes.push(`${key}: ${before.has(key) ? "changed" : "added"} → ${value.slice(0, 200)}`);
  }
  for (const key of before.keys()) if (!now.has(key)) changes.push(`${key}: removed`);
  return changes;
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  return out;
}

function messageOf(body: unknown): SlackMessage | undefined {
  return body && typeof body === "object" && "text" in body ? (body as SlackMessage) : undefined;
}

describe("bad input never crashes, never reaches a shell, never changes state", () => {
  let emulator: SlackEmulator;
  let sink: ResponseUrlSink;
  let xnode: XnodeUnderTest;
  let redis: Redis;
  let dir: string;
  let canary: string;
  let approvals: { pending: KnownApproval; otherCluster: KnownApproval; decided: KnownApproval };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xnode-bad-input-"));
    canary = join(dir, "canary-shell-ran");
    // The clusters are never contacted: no input here may start a check.
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
    emulator = await startSlackEmulator({ users: { [APPROVER]: { name: "approver" }, [STRANGER]: { name: "stranger" } } });
    sink = await startResponseUrlSink();
    // No worker: a job that slipped through would wait in the queue, where the state comparison sees it.
    xnode = await startXnode({
      emulator,
      clusters: CLUSTERS.map((name) => ({ name, kubeconfig })),
      file: { approvals: { approvers: { users: [APPROVER] } } },
      workers: 0,
    });
    redis = createRedis(REDIS_URL);
    const store = new ApprovalStore(redis, `${xnode.prefix}:`);
    const now = new Date();
    const save = async (cluster: string, channel: string, threadTs: string, decided: boolean): Promise<KnownApproval> => {
      const id = ApprovalStore.newId();
      await store.save({
        id,
        purpose: "fix",
        cluster,
        findingId: "route-missing",
        plan: { kind: "add-routes", summary: "add a route", commands: [], diff: [], persistent: false, risks: [] },
        planHash: "0".repeat(64),
        fingerprint: {},
        requestedBy: "U0ALICE01",
        channel,
        threadTs,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3600_000).toISOString(),
      });
      if (decided) await store.decide(id, "approved", APPROVER, now);
      return { id, cluster, channel, threadTs };
    };
    approvals = {
      pending: await save("cluster-a", CHANNEL, "1700000001.000100", false),
      otherCluster: await save("cluster-b", "C0OTHERCH1", "1700000002.000200", false),
      decided: await save("cluster-a", CHANNEL, "1700000003.000300", true),
    };
  });

  after(async () => {
    redis?.disconnect();
    await xnode?.stop();
    await sink?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The bot's answer to request `i`: the ack's body, or what it POSTed to that request's response_url. */
  async function answerTo(res: BotResponse, i: number): Promise<SlackMessage> {
    const inline = messageOf(res.body);
    if (inline) return inline;
    const post = await pollUntil(
      () => sink.posts.find((p) => p.path.endsWith(`?i=${i}`)),
      5000,
      () => `no answer to request ${i}, neither in the ack nor on its response_url`,
    );
    const msg = messageOf(post.body);
    assert.ok(msg, `request ${i}: the response_url post is a message`);
    return msg;
  }

  test("1,000+ slash-command texts: usage errors only, each a valid message, nothing queued or stored", async () => {
    const texts = slashCommandCorpus(CLUSTERS, { path: canary }, 1000);
    assert.ok(texts.length >= 1000, `corpus has ${texts.length} texts`);
    for (const text of texts) {
      const parsed = parseCommand(text, CLUSTERS);
      assert.ok(!parsed.ok || parsed.command.kind === "help", `the corpus holds only invalid commands, but ${JSON.stringify(text)} parses`);
    }
    const before = await stateOf(redis, xnode.prefix);
    const started = Date.now();
    const failures = (
      await inBatches(texts, IN_FLIGHT, async (text, i) => {
        const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, {
          command: "/xnode",
          text,
          user_id: APPROVER,
          channel_id: CHANNEL,
          response_url: `${sink.url}?i=${i}`,
        });
        if (res.status !== 200) return `${JSON.stringify(text.slice(0, 80))}: HTTP ${res.status}`;
        const answer = await answerTo(res, i);
        const problems = validateMessage(answer);
        if (problems.length) return `${JSON.stringify(text.slice(0, 80))}: answer Slack would refuse: ${problems.join("; ")}`;
        const said = `${answer.text} ${JSON.stringify(answer.blocks ?? [])}`;
        if (!/Usage|Commands:/.test(said)) return `${JSON.stringify(text.slice(0, 80))}: not a usage answer: ${said.slice(0, 200)}`;
        return undefined;
      })
    ).filter((f) => f !== undefined);
    const ms = Date.now() - started;
    console.log(JSON.stringify({ corpus: "slash-commands", inputs: texts.length, ms, failures: failures.length }));
    assert.deepEqual(failures.slice(0, 10), []);
    assert.equal(existsSync(canary), false, "no input ran a shell");
    assert.deepEqual(stateChanges(before, await stateOf(redis, xnode.prefix)), []);
    assert.equal(emulator.calls.filter((c) => c.method === "chat.postMessage").length, 0, "nothing was posted into a channel");
  });

  test("500+ interactive payloads: refusals or 401s, no decision, no lock, no job, no message changed", async () => {
    const cases = interactiveCorpus({ approver: APPROVER, stranger: STRANGER, ...approvals, clusters: CLUSTERS }, 500);
    assert.ok(cases.length >= 500);
    const before = await stateOf(redis, xnode.prefix);
    const callsBefore = emulator.calls.length;
    const started = Date.now();
    const outcome = async (c: InteractiveCase, i: number): Promise<string | undefined> => {
      const responseUrl = `${sink.url}?i=${10_000 + i}`;
      const where = c.kind === "forged" ? { channel_id: CHANNEL, message_ts: approvals.pending.threadTs } : { channel_id: c.channel, message_ts: c.threadTs };
      const actionId =
        c.kind === "approve" || c.kind === "unknown-action"
          ? c.actionId
          : c.kind === "reject"
            ? "xnode_reject"
            : c.kind === "rerun"
              ? "xnode_rerun"
              : "xnode_approve_0";
      const res = await postBlockAction(
        xnode.botUrl,
        SIGNING_SECRET,
        { user_id: c.user, ...where, actions: [{ action_id: actionId, block_id: "b1", value: c.value, text: "Approve" }], response_url: responseUrl },
        c.kind === "forged" ? { tamper: c.tamper } : {},
      );
      if (c.kind === "forged") return res.status === 401 ? undefined : `${c.label} (${c.tamper}): HTTP ${res.status}, expected 401`;
      if (res.status !== 200) return `${c.label} ${JSON.stringify(c.value.slice(0, 40))}: HTTP ${res.status}`;
      const answer = await answerTo(res, 10_000 + i).catch((err: Error) => {
        throw new Error(`${c.label} (${c.kind}, value ${JSON.stringify(c.value.slice(0, 40))}): ${err.message}`);
      });
      const said = `${answer.text}`;
      if (!/:no_entry:|Cannot re-run|not a button xnode knows/.test(said))
        return `${c.label} ${JSON.stringify(c.value.slice(0, 40))}: not a refusal: ${said.slice(0, 200)}`;
      return undefined;
    };
    const failures = (await inBatches(cases, IN_FLIGHT, outcome)).filter((f) => f !== undefined);
    const ms = Date.now() - started;
    const byLabel = Object.fromEntries([...new Set(cases.map((c) => c.label))].map((l) => [l, cases.filter((c) => c.label === l).length]));
    console.log(JSON.stringify({ corpus: "interactive", inputs: cases.length, ms, failures: failures.length, byLabel }));
    assert.deepEqual(failures.slice(0, 10), []);
    assert.deepEqual(stateChanges(before, await stateOf(redis, xnode.prefix)), []);
    const writes = emulator.calls.slice(callsBefore).filter((c) => /^chat\./.test(c.method));
    assert.deepEqual(
      writes.map((c) => c.method),
      [],
      "no message was posted or changed",
    );
    // and the bot still answers
    const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "help", user_id: APPROVER, channel_id: CHANNEL });
    assert.equal(res.status, 200);
  });
});

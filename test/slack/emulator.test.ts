// The emulator driven by the real WebClient, so what passes here is what the
// bot's own client sends and understands.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import { MANIFEST_SCOPES, UPLOAD_STEP, startSlackEmulator, type SlackEmulator, type SlackEmulatorOptions } from "./emulator.js";

const CHANNEL = "C0CHECKS1";
const fastRetries = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 };

let emulator: SlackEmulator;
let client: WebClient;

function clientWith(token: string | undefined): WebClient {
  return new WebClient(token, { slackApiUrl: emulator.url, retryConfig: fastRetries, logLevel: LogLevel.ERROR });
}

/** The platform error code a WebClient call was refused with. */
async function refusal(call: Promise<unknown>): Promise<string> {
  return (await refusalData(call)).error ?? "";
}

/** The whole body of a refusal (error code and Slack's extra fields). */
async function refusalData(call: Promise<unknown>): Promise<{ error?: string; [field: string]: unknown }> {
  const error = await call.then(
    () => assert.fail("expected the call to be refused"),
    (e: { code?: string; data?: { error?: string } }) => e,
  );
  assert.equal(error.code, ErrorCode.PlatformError, JSON.stringify(error));
  return error.data ?? {};
}

/** A second emulator with other options, closed after `use`. */
async function withEmulator(opts: SlackEmulatorOptions, use: (other: SlackEmulator, client: WebClient) => Promise<void>): Promise<void> {
  const other = await startSlackEmulator(opts);
  try {
    await use(other, new WebClient("xoxb-other", { slackApiUrl: other.url, retryConfig: fastRetries, logLevel: LogLevel.ERROR }));
  } finally {
    await other.close();
  }
}

const section = (text: string, block_id?: string) => ({ type: "section", text: { type: "mrkdwn", text }, ...(block_id ? { block_id } : {}) });
const button = (action_id: string, value = "v") => ({ type: "button", action_id, value, text: { type: "plain_text", text: "Go" } });

before(async () => {
  emulator = await startSlackEmulator({
    users: { U0ALICE01: { name: "alice", isAdmin: true } },
    usergroups: { S0ONCALL1: ["U0ALICE01", "U0BOB0001"] },
    channels: { [CHANNEL]: {} },
  });
  client = clientWith("xoxb-test-token");
});
after(() => emulator.close());
beforeEach(() => emulator.reset());

describe("chat", () => {
  it("posts, updates and threads, keeping the channel's current state", async () => {
    const root = await client.chat.postMessage({ channel: CHANNEL, text: "checking cluster-a", blocks: [section("checking…", "status")] });
    assert.equal(root.ok, true);
    assert.equal(root.channel, CHANNEL);
    assert.match(root.ts!, /^\d{10}\.\d{6}$/);
    const reply = await client.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts!, text: "evidence" });
    assert.ok(Number(reply.ts) > Number(root.ts), "ts increase");
    assert.equal(reply.message?.thread_ts, root.ts);

    const updated = await client.chat.update({ channel: CHANNEL, ts: root.ts!, text: "cluster-a: 1 finding", blocks: [] });
    assert.equal(updated.ts, root.ts);

    const [now, threadReply] = emulator.messages(CHANNEL);
    assert.equal(now?.text, "cluster-a: 1 finding");
    assert.equal(now?.blocks, undefined, "an empty blocks array clears the blocks");
    assert.ok(now?.edited);
    assert.equal(now?.reply_count, 1);
    assert.equal(threadReply?.text, "evidence");
    assert.deepEqual(
      emulator.thread(CHANNEL, root.ts!).map((m) => m.text),
      ["cluster-a: 1 finding", "evidence"],
    );
    assert.equal(emulator.callsOf("chat.postMessage")[0]?.token, "xoxb-test-token");
    assert.deepEqual(emulator.callsOf("chat.postMessage")[0]?.args.blocks, [section("checking…", "status")], "blocks arrive decoded");
  });

  it("refuses updates of unknown messages and replies to unknown threads", async () => {
    assert.equal(await refusal(client.chat.update({ channel: CHANNEL, ts: "1.000000", text: "x" })), "message_not_found");
    assert.equal(await refusal(client.chat.postMessage({ channel: CHANNEL, thread_ts: "1.000000", text: "x" })), "invalid_thread_ts");
  });

  it("builds permalinks for stored messages", async () => {
    const { ts } = await client.chat.postMessage({ channel: CHANNEL, text: "root" });
    const link = await client.chat.getPermalink({ channel: CHANNEL, message_ts: ts! });
    assert.equal(link.permalink, `https://emulated.slack/archives/${CHANNEL}/p${ts!.replace(".", "")}`);
    assert.equal(await refusal(client.chat.getPermalink({ channel: CHANNEL, message_ts: "1.000000" })), "message_not_found");
  });

  it("accepts JSON bodies as well as form posts", async () => {
    const res = await fetch(`${emulator.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: "Bearer xoxb-json", "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ channel: CHANNEL, blocks: [section("from JSON")] }),
    });
    assert.equal(((await res.json()) as { ok: boolean }).ok, true);
    assert.deepEqual(emulator.messages(CHANNEL)[0]?.blocks, [section("from JSON")]);
  });
});

describe("Block Kit limits", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["more than 50 blocks", { text: "t", blocks: Array.from({ length: 51 }, (_, i) => section(`b${i}`)) }, "invalid_blocks"],
    ["section text over 3000 characters", { text: "t", blocks: [section("x".repeat(3001))] }, "invalid_blocks"],
    ["button value over 2000 characters", { text: "t", blocks: [{ type: "actions", elements: [button("approve", "v".repeat(2001))] }] }, "invalid_blocks"],
    ["duplicate action_id in a block", { text: "t", blocks: [{ type: "actions", elements: [button("approve"), button("approve")] }] }, "invalid_blocks"],
    ["duplicate block_id", { text: "t", blocks: [section("a", "same"), section("b", "same")] }, "invalid_blocks"],
    ["neither text nor blocks", {}, "no_text"],
    ["text over 40000 characters", { text: "x".repeat(40_001) }, "msg_too_long"],
  ];
  for (const [name, content, error] of cases) {
    it(`refuses ${name} with ${error}`, async () => {
      assert.equal(await refusal(client.chat.postMessage({ channel: CHANNEL, ...content } as never)), error);
      assert.deepEqual(emulator.messages(CHANNEL), []);
    });
  }

  it("allows the limits themselves and the same action_id in different blocks", async () => {
    const blocks = [
      section("x".repeat(3000)),
      { type: "actions", block_id: "fix-1", elements: [button("approve", "v".repeat(2000)), button("reject")] },
      { type: "actions", block_id: "fix-2", elements: [button("approve"), button("reject")] },
      ...Array.from({ length: 47 }, (_, i) => section(`b${i}`)),
    ];
    await client.chat.postMessage({ channel: CHANNEL, text: "x".repeat(40_000), blocks });
  });

  it("says where the problem is, as Slack does", async () => {
    await refusal(client.chat.postMessage({ channel: CHANNEL, text: "t", blocks: [section("ok"), section("x".repeat(3001))] }));
    const call = emulator.callsOf("chat.postMessage")[0];
    assert.equal(call?.error, "invalid_blocks");
    const res = await fetch(`${emulator.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: "Bearer xoxb-t", "content-type": "application/json" },
      body: JSON.stringify({ channel: CHANNEL, blocks: [section("x".repeat(3001))] }),
    });
    assert.deepEqual(await res.json(), {
      ok: false,
      error: "invalid_blocks",
      errors: ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"],
    });
  });
});

describe("directory", () => {
  it("answers auth.test, users.info and usergroups.users.list", async () => {
    const auth = await client.auth.test();
    assert.equal(auth.user_id, emulator.directory.botUserId);
    assert.equal(auth.team_id, emulator.directory.teamId);
    const alice = await client.users.info({ user: "U0ALICE01" });
    assert.equal(alice.user?.name, "alice");
    assert.equal(alice.user?.is_admin, true);
    assert.equal(await refusal(client.users.info({ user: "U0NOBODY1" })), "user_not_found");
    assert.deepEqual((await client.usergroups.users.list({ usergroup: "S0ONCALL1" })).users, ["U0ALICE01", "U0BOB0001"]);
    assert.equal(await refusal(client.usergroups.users.list({ usergroup: "S0NOSUCH1" })), "no_such_subteam");
  });
});

describe("files.uploadV2", () => {
  it("goes through all three steps and shares the file into the thread", async () => {
    const root = await client.chat.postMessage({ channel: CHANNEL, text: "report" });
    const res = await client.files.uploadV2({
      channel_id: CHANNEL,
      thread_ts: root.ts!,
      filename: "evidence.txt",
      title: "Evidence",
      content: "ip -j route\n10.244.1.0/24 via …",
    });
    assert.equal(res.ok, true);
    assert.deepEqual(
      emulator.calls.map((c) => c.method),
      ["chat.postMessage", "files.getUploadURLExternal", UPLOAD_STEP, "files.completeUploadExternal"],
    );
    const [file] = emulator.files(CHANNEL);
    assert.equal(file?.title, "Evidence");
    assert.equal(file?.name, "evidence.txt");
    assert.equal(file?.thread_ts, root.ts);
    assert.equal(file?.content, "ip -j route\n10.244.1.0/24 via …");
    assert.deepEqual(
      emulator.thread(CHANNEL, root.ts!)[1]?.files?.map((f) => f.id),
      [file?.id],
    );
  });

  it("retries a failed upload POST like any other request", async () => {
    emulator.failNext(UPLOAD_STEP, { status: 503 });
    await client.files.uploadV2({ channel_id: CHANNEL, filename: "a.txt", content: "abc" });
    assert.deepEqual(
      emulator.callsOf(UPLOAD_STEP).map((c) => c.status),
      [503, 200],
    );
    assert.equal(emulator.files(CHANNEL)[0]?.content, "abc");
  });
});

describe("faults and auth", () => {
  it("answers 429 with Retry-After, which WebClient waits out before retrying", async () => {
    emulator.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    const started = Date.now();
    const res = await client.chat.postMessage({ channel: CHANNEL, text: "after the rate limit" });
    assert.equal(res.ok, true);
    const [limited, retried] = emulator.callsOf("chat.postMessage");
    assert.equal(limited?.status, 429);
    assert.equal(retried?.status, 200);
    assert.ok(retried!.time - limited!.time >= 1000, `retried after ${retried!.time - limited!.time} ms`);
    assert.ok(Date.now() - started >= 1000);
    assert.equal(emulator.messages(CHANNEL).length, 1);
  });

  it("answers 500, which WebClient retries", async () => {
    emulator.failNext("chat.postMessage", { status: 500 });
    await client.chat.postMessage({ channel: CHANNEL, text: "second time lucky" });
    assert.deepEqual(
      emulator.callsOf("chat.postMessage").map((c) => c.status),
      [500, 200],
    );
  });

  it("fails the next calls with a Slack error, then recovers", async () => {
    emulator.failNext("chat.postMessage", { error: "channel_not_found" }, 2);
    assert.equal(await refusal(client.chat.postMessage({ channel: CHANNEL, text: "1" })), "channel_not_found");
    assert.equal(await refusal(client.chat.postMessage({ channel: CHANNEL, text: "2" })), "channel_not_found");
    await client.chat.postMessage({ channel: CHANNEL, text: "3" });
    assert.deepEqual(
      emulator.messages(CHANNEL).map((m) => m.text),
      ["3"],
    );
  });

  it("refuses calls without a bot token", async () => {
    assert.equal(await refusal(clientWith(undefined).chat.postMessage({ channel: CHANNEL, text: "x" })), "not_authed");
    assert.equal(await refusal(clientWith("xoxp-user-token").auth.test()), "invalid_auth");
    assert.deepEqual(emulator.messages(CHANNEL), []);
  });

  it("names unknown methods", async () => {
    assert.equal(await refusal(client.apiCall("conversations.kick", { channel: CHANNEL })), "unknown_method");
  });
});

describe("waitFor", () => {
  it("resolves with the predicate's value once it holds", async () => {
    setTimeout(() => void client.chat.postMessage({ channel: CHANNEL, text: "later" }), 20);
    const message = await emulator.waitFor((e) => e.messages(CHANNEL)[0]);
    assert.equal(message.text, "later");
  });

  it("rejects listing what was recorded", async () => {
    await client.chat.postMessage({ channel: CHANNEL, text: "the only message" });
    await assert.rejects(
      emulator.waitFor((e) => e.callsOf("chat.update").length > 0, 50),
      (e: Error) => /chat\.postMessage .*the only message/.test(e.message) && /C0CHECKS1 \d+\.\d+ "the only message"/.test(e.message),
    );
  });
});

describe("channels as a workspace has them", () => {
  it("refuses unknown, archived and not-joined channels the way Slack does, and posts once the bot is invited", async () => {
    emulator.setChannel("C0NOTIN01", { member: false });
    emulator.setChannel("C0OLD0001", { archived: true });
    emulator.setChannel("C0SECRET1", { private: true, member: false });
    assert.equal(await refusal(client.chat.postMessage({ channel: "C0NOSUCH1", text: "x" })), "channel_not_found");
    assert.equal(await refusal(client.chat.postMessage({ channel: "C0NOTIN01", text: "x" })), "not_in_channel");
    assert.equal(await refusal(client.chat.postMessage({ channel: "C0OLD0001", text: "x" })), "is_archived");
    assert.equal(
      await refusal(client.chat.postMessage({ channel: "C0SECRET1", text: "x" })),
      "channel_not_found",
      "a private channel is invisible to non-members",
    );
    assert.equal(
      await refusal(client.files.uploadV2({ channel_id: "C0NOTIN01", filename: "a.txt", content: "abc" })),
      "not_in_channel",
      "sharing a file is posting",
    );
    assert.deepEqual(emulator.messages("C0NOTIN01"), []);
    emulator.setChannel("C0NOTIN01", { member: true }); // /invite @xnode
    await client.chat.postMessage({ channel: "C0NOTIN01", text: "now a member" });
    assert.equal(emulator.messages("C0NOTIN01")[0]?.text, "now a member");
  });

  it("with chat:write.public the bot posts in public channels it has not joined, never in private ones", async () => {
    await withEmulator(
      { scopes: [...MANIFEST_SCOPES, "chat:write.public"], channels: { C0PUBLIC1: { member: false }, C0SECRET1: { private: true, member: false } } },
      async (other, c) => {
        await c.chat.postMessage({ channel: "C0PUBLIC1", text: "public" });
        assert.equal(await refusal(c.chat.postMessage({ channel: "C0SECRET1", text: "x" })), "channel_not_found");
        assert.equal(other.messages("C0PUBLIC1").length, 1);
      },
    );
  });

  it("answers missing_scope naming the scope needed and the ones the token has", async () => {
    await withEmulator({ scopes: ["chat:write", "commands"], channels: { [CHANNEL]: {} } }, async (_other, c) => {
      const { error, needed, provided } = await refusalData(c.usergroups.users.list({ usergroup: "S0ONCALL1" }));
      assert.deepEqual({ error, needed, provided }, { error: "missing_scope", needed: "usergroups:read", provided: "chat:write,commands" });
      assert.equal((await refusalData(c.files.uploadV2({ channel_id: CHANNEL, filename: "a.txt", content: "abc" }))).needed, "files:write");
    });
  });

  it("answers plan_upgrade_required for user groups on a free workspace", async () => {
    await withEmulator({ plan: "free", usergroups: { S0ONCALL1: ["U0ALICE01"] } }, async (_other, c) => {
      assert.equal(await refusal(c.usergroups.users.list({ usergroup: "S0ONCALL1" })), "plan_upgrade_required");
    });
  });
});

describe("the total text of a message's blocks", () => {
  const sections = (count: number, size: number) => Array.from({ length: count }, (_, i) => section(String(i % 10).repeat(size)));

  it("refuses more than 12,000 characters of block text with msg_blocks_too_long, though every block is within its own limit", async () => {
    assert.equal(await refusal(client.chat.postMessage({ channel: CHANNEL, text: "t", blocks: sections(5, 2500) })), "msg_blocks_too_long");
    const { ts } = await client.chat.postMessage({ channel: CHANNEL, text: "t", blocks: sections(4, 3000) });
    assert.equal(
      await refusal(client.chat.update({ channel: CHANNEL, ts: ts!, text: "t", blocks: [...sections(4, 3000), section("one more")] })),
      "msg_blocks_too_long",
    );
    assert.equal(emulator.messages(CHANNEL).length, 1);
  });

  it("counts button, context and header text too", async () => {
    const blocks = [
      { type: "header", text: { type: "plain_text", text: "h".repeat(150) } },
      { type: "context", elements: Array.from({ length: 10 }, () => ({ type: "mrkdwn", text: "c".repeat(1000) })) },
      ...sections(1, 1800),
      { type: "actions", elements: Array.from({ length: 2 }, (_, i) => ({ ...button(`b${i}`), text: { type: "plain_text", text: "b".repeat(40) } })) },
    ];
    assert.equal(await refusal(client.chat.postMessage({ channel: CHANNEL, text: "t", blocks })), "msg_blocks_too_long");
  });
});

describe("rate limits", () => {
  const rejecting = () =>
    new WebClient("xoxb-test-token", { slackApiUrl: emulator.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });

  it("chat.postMessage: a burst of 3 per channel, then about one a second, answered 429 with Retry-After", async () => {
    emulator.setChannel("C0OTHER01");
    const impatient = rejecting();
    for (const n of [1, 2, 3]) await impatient.chat.postMessage({ channel: CHANNEL, text: `burst ${n}` });
    const limited = await impatient.chat.postMessage({ channel: CHANNEL, text: "too soon" }).then(
      () => assert.fail("the fourth message at once is over the limit"),
      (e: { code?: string; retryAfter?: number }) => e,
    );
    assert.equal(limited.code, ErrorCode.RateLimitedError);
    assert.equal(limited.retryAfter, 1);
    await impatient.chat.postMessage({ channel: "C0OTHER01", text: "another channel has its own allowance" });
    const res = await fetch(`${emulator.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: "Bearer xoxb-t", "content-type": "application/json" },
      body: JSON.stringify({ channel: CHANNEL, text: "raw" }),
    });
    assert.deepEqual([res.status, res.headers.get("retry-after"), await res.json()], [429, "1", { ok: false, error: "ratelimited" }]);
    await new Promise((r) => setTimeout(r, 1050));
    await impatient.chat.postMessage({ channel: CHANNEL, text: "a second later" });
    assert.deepEqual(
      emulator.messages(CHANNEL).map((m) => m.text),
      ["burst 1", "burst 2", "burst 3", "a second later"],
    );
  });

  it("a WebClient that waits out Retry-After gets every message through, in order", async () => {
    const started = Date.now();
    for (let n = 1; n <= 6; n++) await client.chat.postMessage({ channel: CHANNEL, text: `m${n}` });
    assert.deepEqual(
      emulator.messages(CHANNEL).map((m) => m.text),
      ["m1", "m2", "m3", "m4", "m5", "m6"],
    );
    assert.ok(emulator.callsOf("chat.postMessage").filter((c) => c.status === 429).length >= 3, "the messages past the burst were limited first");
    assert.ok(Date.now() - started >= 2500, `six messages took ${Date.now() - started} ms`);
  });

  it("methods are limited per minute by tier (usergroups.users.list is Tier 2)", async () => {
    await withEmulator({ usergroups: { S0ONCALL1: ["U0ALICE01"] }, rateLimits: { perMinute: { 2: 2 } } }, async (other) => {
      const impatient = new WebClient("xoxb-t", {
        slackApiUrl: other.url,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        logLevel: LogLevel.ERROR,
      });
      await impatient.usergroups.users.list({ usergroup: "S0ONCALL1" });
      await impatient.usergroups.users.list({ usergroup: "S0ONCALL1" });
      const limited = await impatient.usergroups.users.list({ usergroup: "S0ONCALL1" }).then(
        () => assert.fail("the third call in a minute is over a limit of 2"),
        (e: { code?: string; retryAfter?: number }) => e,
      );
      assert.equal(limited.code, ErrorCode.RateLimitedError);
      assert.ok(limited.retryAfter! >= 59 && limited.retryAfter! <= 60, `Retry-After ${limited.retryAfter}`);
      await impatient.auth.test(); // another method, another allowance
    });
  });

  it("can be turned off", async () => {
    await withEmulator({ channels: { [CHANNEL]: {} }, rateLimits: false }, async (other, c) => {
      await Promise.all(Array.from({ length: 10 }, (_, n) => c.chat.postMessage({ channel: CHANNEL, text: `m${n}` })));
      assert.equal(other.callsOf("chat.postMessage").filter((call) => call.status === 429).length, 0);
    });
  });
});

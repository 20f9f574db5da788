// The real Bolt App in HTTP mode, its WebClient pointed at the emulator, called
// with signed requests the way Slack calls it.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { App, LogLevel } from "@slack/bolt";
import { startSlackEmulator, type SlackEmulator } from "./emulator.js";
import { startResponseUrlSink, type ResponseUrlSink } from "./response-url-sink.js";
import { postBlockAction, postSlashCommand } from "./signed-request.js";

const SIGNING_SECRET = "emulated-signing-secret";
const CHANNEL = "C0CHECKS1";

describe("Bolt over HTTP against the emulator", () => {
  let emulator: SlackEmulator;
  let sink: ResponseUrlSink;
  let app: App;
  let botUrl: string;
  const commandsSeen: string[] = [];

  before(async () => {
    // First: Bolt calls auth.test from its constructor when given a token.
    emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} } });
    sink = await startResponseUrlSink();
    app = new App({
      token: "xoxb-bolt-test",
      signingSecret: SIGNING_SECRET,
      clientOptions: { slackApiUrl: emulator.url, retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 } },
      logLevel: LogLevel.ERROR,
    });
    app.command("/xnode", async ({ command, ack, client }) => {
      commandsSeen.push(command.text);
      await ack(`Checking ${command.text}…`);
      await client.chat.postMessage({ channel: command.channel_id, text: `<@${command.user_id}> asked for ${command.text}` });
    });
    app.action("approve", async ({ ack, respond, action }) => {
      await ack();
      await respond({ text: `approved ${"value" in action ? action.value : "?"}`, replace_original: false });
    });
    // Listen options rather than a bare port: loopback only, port chosen by the OS.
    const server = await app.start({ port: 0, host: "127.0.0.1" });
    botUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  after(async () => {
    await app.stop();
    await sink.close();
    await emulator.close();
  });

  it("verifies its token with auth.test, which the constructor starts and start() does not await", async () => {
    const [call] = await emulator.waitFor((e) => e.callsOf("auth.test").length > 0 && e.callsOf("auth.test"));
    assert.equal(call?.token, "xoxb-bolt-test");
  });

  it("acks a signed slash command with the text and posts through the emulator", async () => {
    const res = await postSlashCommand(botUrl, SIGNING_SECRET, { command: "/xnode", text: "check cluster-a", user_id: "U0ALICE01", channel_id: CHANNEL });
    assert.equal(res.status, 200);
    assert.equal(res.body, "Checking check cluster-a…");
    assert.equal(res.contentType, null, "ack(string) is written without a content type");
    const posted = await emulator.waitFor((e) => e.messages(CHANNEL)[0]);
    assert.equal(posted.text, "<@U0ALICE01> asked for check cluster-a");
    assert.equal(emulator.callsOf("chat.postMessage")[0]?.token, "xoxb-bolt-test");
    assert.equal(emulator.callsOf("auth.test").length, 1, "the auth.test result is cached for every event");
  });

  it("answers 401 to a bad signature or a stale timestamp and never runs the listener", async () => {
    const before = commandsSeen.length;
    const command = { command: "/xnode", text: "check forged", user_id: "U0MALLORY", channel_id: CHANNEL };
    const forged = await postSlashCommand(botUrl, SIGNING_SECRET, command, { tamper: "bad-signature" });
    const replayed = await postSlashCommand(botUrl, SIGNING_SECRET, command, { tamper: "stale-timestamp" });
    assert.deepEqual([forged.status, forged.body, replayed.status, replayed.body], [401, undefined, 401, undefined]);
    assert.equal(commandsSeen.length, before);
    assert.equal(
      emulator.messages(CHANNEL).some((m) => m.text.includes("forged")),
      false,
    );
  });

  it("acks a button press with an empty 200 and responds through response_url", async () => {
    const res = await postBlockAction(botUrl, SIGNING_SECRET, {
      user_id: "U0ALICE01",
      channel_id: CHANNEL,
      message_ts: "1700000000.000100",
      actions: [{ action_id: "approve", block_id: "fix-1", value: "plan-abc" }],
      response_url: sink.url,
    });
    assert.deepEqual([res.status, res.body], [200, undefined]);
    const [post] = await sink.waitForPosts(1);
    assert.deepEqual(post?.body, { text: "approved plan-abc", replace_original: false });
  });
});

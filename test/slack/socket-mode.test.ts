// The emulator's Socket Mode, driven by Bolt's own SocketModeReceiver (the
// client `xnode bot` uses): tokens as Slack checks them, hello, envelopes
// acked by envelope_id within Slack's 3 s (and the ones that are not), and
// disconnects the client recovers from.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import bolt from "@slack/bolt";
import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import { WebSocket } from "ws";
import { EMULATED_APP_ID, startSlackEmulator, type SlackEmulator } from "./emulator.js";
import { ACK_DEADLINE_MS } from "./emulator/socket-mode.js";
import { blockActionsPayload, slashCommandPayload } from "./slack-payloads.js";

const APP_TOKEN = "xapp-1-A0EMUAPP1-emulated";
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => bolt.LogLevel.ERROR, setName() {} };

let emulator: SlackEmulator;

async function refusal(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => assert.fail("expected the call to be refused"),
    (e: { code?: string; data?: { error?: string } }) => e,
  );
  assert.equal(error.code, ErrorCode.PlatformError);
  return error.data?.error ?? "";
}

/** A Bolt app on the emulator's Socket Mode; a short client ping timeout makes its reconnect delay short too. */
async function startApp(register: (app: bolt.App) => void): Promise<bolt.App> {
  const receiver = new bolt.SocketModeReceiver({
    appToken: APP_TOKEN,
    logger: quiet,
    clientPingTimeout: 300,
    installerOptions: { clientOptions: { slackApiUrl: emulator.url } },
  });
  const app = new bolt.App({ token: "xoxb-socket-test", receiver, logger: quiet, clientOptions: { slackApiUrl: emulator.url } });
  register(app);
  await app.start();
  return app;
}

before(async () => {
  emulator = await startSlackEmulator();
});
after(() => emulator.close());
beforeEach(() => emulator.reset());

describe("apps.connections.open", () => {
  it("gives an app-level token a one-time ws:// URL on the emulator; a bot token or an unknown one is refused as Slack does", async () => {
    const web = (token: string) => new WebClient(token, { slackApiUrl: emulator.url, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 } });
    const opened = await web(APP_TOKEN).apps.connections.open();
    assert.match(opened.url ?? "", new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/link/\\?ticket=[0-9a-f-]{36}&app_id=${EMULATED_APP_ID}$`));
    assert.equal(await refusal(web("xoxb-bot-token").apps.connections.open()), "not_allowed_token_type");
    assert.equal(await refusal(web("not-a-token").apps.connections.open()), "invalid_auth");
    assert.equal(await refusal(web(APP_TOKEN).chat.postMessage({ channel: "C0SOCKET1", text: "x" })), "not_allowed_token_type");

    const connect = (url: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.once("message", (data) => (resolve(data.toString()), ws.close()));
        ws.once("unexpected-response", (_req, res) => resolve(`HTTP ${res.statusCode}`));
      });
    const hello = JSON.parse(await connect(opened.url!)) as { type: string; connection_info: { app_id: string }; num_connections: number };
    assert.equal(hello.type, "hello");
    assert.equal(hello.connection_info.app_id, EMULATED_APP_ID);
    assert.equal(await connect(opened.url!), "HTTP 401", "a URL opens one connection");
  });
});

describe("envelopes and acks", () => {
  let app: bolt.App;
  const seen: string[] = [];

  before(async () => {
    app = await startApp((a) => {
      a.command("/xnode", async ({ ack, command }) => {
        seen.push(`command ${command.text}`);
        if (command.text === "silent") return; // never acks: Slack shows the user a timeout
        await ack({ response_type: "ephemeral", text: `got ${command.text}` });
      });
      a.action("xnode_rerun", async ({ ack, body }) => {
        await ack();
        seen.push(`action by ${body.user.id}`);
      });
      a.event("app_mention", async ({ event }) => {
        seen.push(`mention ${event.text}`);
      });
    });
  });
  after(() => app?.stop());

  it("a connection starts with hello; a slash command is acked by its envelope_id with the answer in the ack", async () => {
    assert.equal(emulator.socketMode.openConnections().length, 1);
    const delivery = await emulator.socketMode.deliver(
      "slash_commands",
      slashCommandPayload({ command: "/xnode", text: "help", user_id: "U0SOCK001", channel_id: "C0SOCKET1" }),
    );
    assert.equal(delivery.late, false);
    assert.ok(delivery.ackedAt! - delivery.sentAt < ACK_DEADLINE_MS);
    assert.deepEqual(delivery.ackPayload, { response_type: "ephemeral", text: "got help" });
    assert.deepEqual(emulator.socketMode.strayAcks, []);
  });

  it("interactive and events_api envelopes are acked too", async () => {
    const action = await emulator.socketMode.deliver(
      "interactive",
      blockActionsPayload({
        user_id: "U0SOCK002",
        channel_id: "C0SOCKET1",
        message_ts: "1700000000.000100",
        actions: [{ action_id: "xnode_rerun", block_id: "b1", value: "lab" }],
      }),
    );
    const event = await emulator.socketMode.deliver("events_api", {
      type: "event_callback",
      team_id: "T0EMU0001",
      api_app_id: EMULATED_APP_ID,
      event_id: "Ev0SOCK01",
      event_time: 1700000000,
      event: { type: "app_mention", user: "U0SOCK003", text: "<@U0EMUBOT1> hi", channel: "C0SOCKET1", ts: "1700000000.000200", event_ts: "1700000000.000200" },
    });
    assert.equal(action.late, false);
    assert.equal(event.late, false);
    await emulator.waitFor(() => seen.includes("action by U0SOCK002") && seen.includes("mention <@U0EMUBOT1> hi"));
  });

  it("an envelope nobody acks is recorded as late after 3 s", async () => {
    const started = Date.now();
    const delivery = await emulator.socketMode.deliver(
      "slash_commands",
      slashCommandPayload({ command: "/xnode", text: "silent", user_id: "U0SOCK004", channel_id: "C0SOCKET1" }),
    );
    assert.equal(delivery.late, true);
    assert.equal(delivery.ackedAt, undefined);
    assert.ok(Date.now() - started >= ACK_DEADLINE_MS - 10);
    assert.ok(seen.includes("command silent"), "it was delivered");
  });
});

describe("disconnect", () => {
  for (const reason of ["refresh_requested", "link_disabled"] as const) {
    it(`${reason}: the client opens a new connection, and commands sent after it are handled`, async () => {
      const answered: string[] = [];
      const app = await startApp((a) =>
        a.command("/xnode", async ({ ack, command }) => {
          answered.push(command.text);
          await ack();
        }),
      );
      try {
        const opens = () => emulator.callsOf("apps.connections.open").length;
        const first = emulator.socketMode.connections.at(-1)!;
        const opensBefore = opens();
        emulator.socketMode.disconnect(reason);
        const second = await emulator.waitFor(() => emulator.socketMode.openConnections().find((c) => c.id > first.id), 10_000);
        assert.equal(opens(), opensBefore + 1, "a new URL from apps.connections.open");
        assert.deepEqual(first.disconnects, [reason]);
        await emulator.waitFor(() => first.closedAt, 5_000);
        const delivery = await emulator.socketMode.deliver(
          "slash_commands",
          slashCommandPayload({ command: "/xnode", text: `after ${reason}`, user_id: "U0SOCK005", channel_id: "C0SOCKET1" }),
        );
        assert.equal(delivery.connection, second.id);
        assert.equal(delivery.late, false);
        assert.deepEqual(answered, [`after ${reason}`]);
      } finally {
        await app.stop();
      }
    });
  }
});

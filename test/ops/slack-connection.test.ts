// The bot's Slack readiness in Socket Mode, from the client's lifecycle events (pure).
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { SlackConnection } from "../../src/processes/slack-connection.js";

class FakeSocketClient extends EventEmitter {
  websocket?: { isActive(): boolean };
  open(active: boolean): void {
    this.websocket = { isActive: () => active };
  }
}

test("ready once connected, unready when the socket closes with none open", () => {
  const slack = new SlackConnection();
  const client = new FakeSocketClient();
  slack.watch(client);
  assert.equal(slack.ready.ok(), false);
  client.open(true);
  client.emit("connected");
  assert.equal(slack.ready.ok(), true);
  client.open(false);
  client.emit("close");
  assert.equal(slack.ready.ok(), false);
});

test("the old socket's close arriving after the new one said hello leaves it ready", () => {
  const slack = new SlackConnection();
  const client = new FakeSocketClient();
  slack.watch(client);
  client.open(true);
  client.emit("connected");
  // Slack's disconnect: a new socket is open and connected, then the old one's events come in
  client.emit("close");
  client.emit("reconnecting");
  assert.equal(slack.ready.ok(), true);
});

test("live until the socket has been down longer than the limit", () => {
  let now = 0;
  const slack = new SlackConnection(1000, () => now);
  const client = new FakeSocketClient();
  slack.watch(client);
  client.open(true);
  client.emit("connected");
  client.open(false);
  client.emit("disconnected");
  now = 999;
  assert.equal(slack.live.ok(), true);
  now = 1001;
  assert.equal(slack.live.ok(), false);
});

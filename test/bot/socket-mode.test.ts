// `xnode bot` in Socket Mode, the default install, end to end: the bot opens
// the emulator's socket with its app-level token, `/xnode check lab` arrives
// as an envelope and is acked within Slack's 3 s, a worker checks the lab, the
// thread arrives; Slack's disconnects (refresh_requested, link_disabled) are
// survived, and the worker's /metrics counts what happened.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getOps, sample } from "../helpers/ops-endpoints.js";
import { checkThrough, textOf } from "../helpers/slack-flow.js";
import { startXnodeOnLab, type XnodeOnLab } from "../helpers/xnode-fixture.js";
import type { SlashCommandInput } from "../slack/signed-request.js";
import { ACK_DEADLINE_MS } from "../slack/emulator/socket-mode.js";
import { slashCommandPayload } from "../slack/slack-payloads.js";

const CHANNEL = "C0SOCKET1";

describe("xnode bot in Socket Mode on a healthy lab", () => {
  let env: XnodeOnLab;
  /** Delivers a slash command as Slack does in Socket Mode and requires its ack in time. */
  const send = async (command: SlashCommandInput) => {
    const delivery = await env.emulator.socketMode.deliver("slash_commands", slashCommandPayload(command));
    assert.equal(delivery.late, false, `acked within ${ACK_DEADLINE_MS} ms`);
    return delivery;
  };

  before(async () => {
    env = await startXnodeOnLab("healthy-three-nodes", { socketMode: true, emulator: { channels: { [CHANNEL]: {} } } });
  });
  after(async () => env?.stop());

  test("connected with the app-level token; /xnode check is acked by envelope_id, runs on the worker, and the thread arrives", async () => {
    const { emulator, xnode } = env;
    const opens = emulator.callsOf("apps.connections.open");
    assert.equal(opens.length, 1);
    assert.match(opens[0]!.token ?? "", /^xapp-/);
    assert.equal(emulator.socketMode.openConnections().length, 1);
    const ready = await getOps(xnode.bot.opsPort!, "/readyz");
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(JSON.parse(ready.text), { ready: true, checks: { redis: true, slack: true } });

    const { replies } = await checkThrough(emulator, { cluster: "lab", user: "U0SOCKET1", channel: CHANNEL, causes: 1 }, async (c) => void (await send(c)));
    assert.match(replies.map(textOf).join("\n"), /reachable/i);
    const [delivery] = emulator.socketMode.deliveries;
    assert.ok(delivery!.ackedAt! - delivery!.sentAt < ACK_DEADLINE_MS);
    assert.deepEqual(emulator.socketMode.strayAcks, []);

    // What the worker counted, read as Prometheus would.
    const text = (await getOps(xnode.workers[0]!.opsPort!, "/metrics")).text;
    assert.equal(sample(text, "xnode_checks_total", { verdict: "healthy", process: "worker" }), 1, text);
    assert.equal(sample(text, "xnode_findings_total", { id: "cluster-healthy" }), 1);
    assert.equal(sample(text, "xnode_check_duration_seconds_count"), 1);
    assert.ok((sample(text, "xnode_execs_total", { outcome: "ok" }) ?? 0) >= 3, "execs into the agents were counted");
    assert.equal(sample(text, "xnode_queue_jobs", { queue: "xnode-check", state: "waiting" }), 0);
  });

  for (const reason of ["refresh_requested", "link_disabled"] as const) {
    test(`disconnect (${reason}): the bot reconnects, is unready meanwhile, and handles commands sent after it`, async () => {
      const { emulator, xnode } = env;
      const before = emulator.socketMode.connections.at(-1)!;
      emulator.socketMode.disconnect(reason);
      await emulator.waitFor(() => before.closedAt, 5_000);
      assert.equal((await getOps(xnode.bot.opsPort!, "/readyz")).status, 503, "not ready while the socket is down");
      // Bolt's client waits 5 s (its ping timeout) before it reconnects.
      const next = await emulator.waitFor(() => emulator.socketMode.openConnections().find((c) => c.id > before.id), 15_000);
      const help = await send({ command: "/xnode", text: "help", user_id: "U0SOCKET2", channel_id: CHANNEL });
      assert.equal(help.connection, next.id);
      assert.match(JSON.stringify(help.ackPayload), /\/xnode check/);
      const { replies } = await checkThrough(
        emulator,
        { cluster: "lab", user: `U0AFTER${reason === "refresh_requested" ? "R" : "L"}1`, channel: CHANNEL, causes: 1 },
        async (c) => void (await send(c)),
      );
      assert.match(replies.map(textOf).join("\n"), /reachable/i);
      assert.equal((await getOps(xnode.bot.opsPort!, "/readyz")).status, 200);
    });
  }

  test("/xnode digest now over the socket: one digest, and its check is counted like the others", async () => {
    const { emulator, xnode } = env;
    const metricsNow = async () => (await getOps(xnode.workers[0]!.opsPort!, "/metrics")).text;
    const before = sample(await metricsNow(), "xnode_checks_total", { verdict: "healthy" }) ?? 0;
    await send({ command: "/xnode", text: "digest now", user_id: "U0SOCKET3", channel_id: CHANNEL });
    await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /digest/i.test(textOf(m)) && /U0SOCKET3/.test(textOf(m))), 30_000);
    assert.equal(sample(await metricsNow(), "xnode_checks_total", { verdict: "healthy" }), before + 1);
  });
});

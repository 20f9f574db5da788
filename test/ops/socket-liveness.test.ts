// A Socket Mode bot whose socket stays down (Slack's apps.connections.open
// failing, so Bolt's client keeps retrying) turns not live once the down time
// passes its limit, so Kubernetes restarts it; when the socket comes back the
// bot is live and ready again without a restart.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import pino from "pino";
import { envSchema, parseFileConfig } from "../../src/config.js";
import { startBot } from "../../src/processes/bot-process.js";
import { getOps, waitForStatus } from "../helpers/ops-endpoints.js";
import { APP_TOKEN, REDIS_URL } from "../helpers/xnode-fixture.js";
import { startSlackEmulator } from "../slack/emulator.js";

test("socket down longer than the limit: /healthz 503 naming the socket; back up: 200 by itself", async () => {
  const emulator = await startSlackEmulator();
  const env = envSchema.parse({
    SLACK_BOT_TOKEN: "xoxb-liveness",
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: emulator.url,
    REDIS_URL,
    XNODE_REDIS_PREFIX: `xl${randomBytes(4).toString("hex")}`,
  });
  const bot = await startBot({ env, file: parseFileConfig({}).config! }, pino({ level: "silent" }), { port: 0, host: "127.0.0.1", socketStuckMs: 1500 });
  try {
    const port = bot.opsPort!;
    assert.deepEqual(await getOps(port, "/healthz"), { status: 200, text: "ok\n" });
    // Slack asks for a reconnect, then answers apps.connections.open with 500s: the client retries on and on.
    emulator.failNext("apps.connections.open", { status: 500 }, 1000);
    const downAt = Date.now();
    emulator.socketMode.disconnect("refresh_requested");
    await emulator.waitFor(() => emulator.socketMode.openConnections().length === 0, 5_000);
    assert.equal((await getOps(port, "/readyz")).status, 503, "not ready at once");
    await waitForStatus(port, "/healthz", 503, 15_000);
    assert.deepEqual(JSON.parse((await getOps(port, "/healthz")).text), { live: false, checks: { "slack-socket": false } });
    assert.ok(Date.now() - downAt >= 1500, "not before the limit");
    await emulator.waitFor(() => emulator.callsOf("apps.connections.open").some((c) => c.status === 500), 15_000);
    assert.equal((await getOps(port, "/healthz")).status, 503, "still not live while the client retries");

    emulator.reset(); // Slack answers again
    const recovered = await waitForStatus(port, "/readyz", 200, 30_000);
    assert.deepEqual(await getOps(port, "/healthz"), { status: 200, text: "ok\n" });
    assert.equal(emulator.socketMode.openConnections().length, 1);
    console.log(`OPS-FIGURES ${JSON.stringify({ socketBackAfterSlackAnswersMs: recovered })}`);
  } finally {
    await bot.stop();
    await emulator.close();
  }
});

// /healthz, /readyz and /metrics of real `xnode bot` and `xnode worker`
// processes, as Kubernetes and Prometheus use them: ready only while Redis
// answers (a private redis-server the test kills and starts again) and Slack
// is connected; live throughout. And a bot token given as the app token stops
// `xnode bot` at once with what to do, instead of a bot that never connects.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { RedisProcess, startPrivateRedis } from "../faults/private-redis.js";
import { startXnodeProcess, type XnodeProcess } from "../faults/xnode-processes.js";
import { getOps, sample, waitForStatus } from "../helpers/ops-endpoints.js";
import { APP_TOKEN, SIGNING_SECRET } from "../helpers/xnode-fixture.js";
import { startSlackEmulator, type SlackEmulator } from "../slack/emulator.js";

const opsPortOf = async (p: XnodeProcess) => Number((await p.waitForLog((l) => typeof l.opsPort === "number")).opsPort);

describe("probes of real processes while Redis goes away and comes back", () => {
  let redis: RedisProcess;
  let emulator: SlackEmulator;
  let bot: XnodeProcess;
  let worker: XnodeProcess;
  let botPort: number;
  let workerPort: number;

  before(async () => {
    redis = await startPrivateRedis();
    emulator = await startSlackEmulator();
    const env = {
      SLACK_BOT_TOKEN: "xoxb-ops-test",
      SLACK_API_URL: emulator.url,
      REDIS_URL: redis.url,
      XNODE_REDIS_PREFIX: `xo${randomBytes(4).toString("hex")}`,
      PORT: "0",
      METRICS_PORT: "0",
    };
    [bot, worker] = await Promise.all([startXnodeProcess("bot", { ...env, SLACK_APP_TOKEN: APP_TOKEN }), startXnodeProcess("worker", env)]);
    [botPort, workerPort] = await Promise.all([opsPortOf(bot), opsPortOf(worker)]);
  });
  after(async () => {
    await Promise.all([bot?.kill("SIGKILL"), worker?.kill("SIGKILL")]);
    await emulator?.close();
    await redis?.stop();
  });

  test("live and ready when Redis answers and the bot's socket is open; /metrics in Prometheus' text format", async () => {
    for (const port of [botPort, workerPort]) {
      assert.deepEqual(await getOps(port, "/healthz"), { status: 200, text: "ok\n" });
      const metrics = await getOps(port, "/metrics");
      assert.equal(metrics.status, 200);
      assert.equal(sample(metrics.text, "xnode_queue_jobs", { queue: "xnode-check", state: "waiting" }), 0, metrics.text);
      assert.ok((sample(metrics.text, "process_resident_memory_bytes") ?? 0) > 0);
      assert.equal((await getOps(port, "/nope" as "/healthz")).status, 404);
    }
    assert.deepEqual(JSON.parse((await getOps(botPort, "/readyz")).text), { ready: true, checks: { redis: true, slack: true } });
    assert.deepEqual(JSON.parse((await getOps(workerPort, "/readyz")).text), { ready: true, checks: { redis: true, workers: true } });
    assert.equal(emulator.socketMode.openConnections().length, 1);
  });

  test("Redis killed: both unready within seconds, still live; Redis back on its port: both ready again by themselves", async () => {
    await redis.kill();
    const [botDown, workerDown] = await Promise.all([waitForStatus(botPort, "/readyz", 503, 10_000), waitForStatus(workerPort, "/readyz", 503, 10_000)]);
    assert.equal(JSON.parse((await getOps(botPort, "/readyz")).text).checks.redis, false);
    for (const port of [botPort, workerPort]) {
      assert.equal((await getOps(port, "/healthz")).status, 200, "a Redis outage is no reason to restart the pod");
      const metrics = await getOps(port, "/metrics");
      assert.equal(metrics.status, 200, "metrics still answer, without the queue depths");
      assert.equal(sample(metrics.text, "xnode_queue_jobs"), undefined);
    }
    redis = new RedisProcess(redis.port);
    await redis.start();
    const [botUp, workerUp] = await Promise.all([waitForStatus(botPort, "/readyz", 200), waitForStatus(workerPort, "/readyz", 200)]);
    console.log(
      `OPS-FIGURES ${JSON.stringify({ unreadyAfterKillMs: { bot: botDown, worker: workerDown }, readyAfterRestartMs: { bot: botUp, worker: workerUp } })}`,
    );
    assert.ok(bot.running && worker.running, "neither process exited");
  });
});

describe("xnode bot in HTTP mode", () => {
  test("serves /healthz, /readyz and /metrics on Bolt's own port", async () => {
    const emulator = await startSlackEmulator();
    const bot = await startXnodeProcess("bot", {
      SLACK_BOT_TOKEN: "xoxb-ops-http",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: emulator.url,
      REDIS_URL: process.env.XNODE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      XNODE_REDIS_PREFIX: `xo${randomBytes(4).toString("hex")}`,
      PORT: "0",
    });
    try {
      const started = await bot.waitForLog((l) => l.msg === "xnode bot started");
      assert.equal(started.opsPort, started.port, "one port for Slack and the probes");
      const port = Number(started.port);
      assert.equal((await getOps(port, "/healthz")).status, 200);
      assert.deepEqual(JSON.parse((await getOps(port, "/readyz")).text), { ready: true, checks: { redis: true, slack: true } });
      assert.match((await getOps(port, "/metrics")).text, /^# HELP xnode_checks_total /m);
    } finally {
      await bot.kill("SIGTERM");
      await emulator.close();
    }
  });
});

test("a bot token in SLACK_APP_TOKEN: `xnode bot` exits 2 at once saying what an app-level token is", async () => {
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts", "bot"], {
    env: { PATH: process.env.PATH, SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xoxb-2" },
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /SLACK_APP_TOKEN: must be an app-level token \(xapp-…\) with the connections:write scope/);
  assert.ok(Date.now() - started < 15_000, "no waiting for a connection that cannot open");
});

test("an app token Slack stops accepting (revoked) ends `xnode bot` with one JSON line; started again, it exits 2 naming SLACK_APP_TOKEN", async () => {
  const emulator = await startSlackEmulator();
  const env = {
    SLACK_BOT_TOKEN: "xoxb-ops-revoked",
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: emulator.url,
    REDIS_URL: process.env.XNODE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    XNODE_REDIS_PREFIX: `xo${randomBytes(4).toString("hex")}`,
    PORT: "0",
  };
  const bot = await startXnodeProcess("bot", env);
  try {
    emulator.failNext("apps.connections.open", { error: "invalid_auth" }, 10);
    emulator.socketMode.disconnect("link_disabled");
    assert.equal(await bot.exited, 1, bot.log);
    const fatal = bot.logLines().find((l) => l.level === 60);
    assert.match(String(fatal?.msg), /invalid_auth/, bot.log);
    assert.doesNotMatch(bot.log, /^\s+at /m, "no bare stack trace outside the JSON line");
    // Not spawnSync: the emulator answering it runs in this process.
    const again = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "bot"], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("exit", (status) => resolve({ status, stderr }));
    });
    assert.equal(again.status, 2, again.stderr);
    assert.match(again.stderr, /cannot open a Socket Mode connection: .*invalid_auth.*Check SLACK_APP_TOKEN/s);
  } finally {
    await bot.kill("SIGKILL");
    await emulator.close();
  }
});

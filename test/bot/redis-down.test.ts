// A person waiting on xnode while its Redis is down: every command is acked at
// once and answered within seconds with what is wrong (the bot's connection
// fails fast), the bot works again by itself once Redis is back, and the CLI
// exits 2 in a few seconds instead of hanging.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { RedisProcess, freePort } from "../faults/private-redis.js";
import { commandAnswer } from "../helpers/slack-flow.js";
import { startXnode, type XnodeUnderTest } from "../helpers/xnode-fixture.js";
import { runCli } from "../../src/cli.js";
import { startSlackEmulator, type SlackEmulator } from "../slack/emulator.js";
import { startResponseUrlSink, type ResponseUrlSink } from "../slack/response-url-sink.js";

const CHANNEL = "C0REDIS01";
const USER = "U0WAITER1";

describe("the bot while its Redis is down", () => {
  let redis: RedisProcess;
  let emulator: SlackEmulator;
  let sink: ResponseUrlSink;
  let xnode: XnodeUnderTest;
  let redisDown = false;
  const ask = (text: string) => commandAnswer(xnode.botUrl, sink, { text, user: USER, channel: CHANNEL });

  before(async () => {
    redis = new RedisProcess(await freePort());
    await redis.start();
    emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} } });
    sink = await startResponseUrlSink();
    // the bot alone (workers are the fault tests' business), and a cluster never checked: these commands only read Redis
    xnode = await startXnode({ emulator, clusters: [{ name: "cluster-a", kubeconfig: "/nonexistent/a.kubeconfig" }], redisUrl: redis.url, workers: 0 });
  });
  after(async () => {
    if (redisDown) await redis.start(); // running again, so stopping the workers does not wait for it
    await xnode?.stop();
    await redis?.stop();
    await sink?.close();
    await emulator?.close();
  });

  test("clusters, status, audit ack before touching Redis and answer through the response URL", async () => {
    for (const [text, said] of [
      ["clusters", /cluster-a/],
      ["status", /xnode status/],
      ["audit cluster-a", /cluster-a/],
    ] as const) {
      const { ackBody, answer } = await ask(text);
      assert.equal(ackBody, undefined, `/xnode ${text} acks with an empty 200`);
      assert.equal((answer as { response_type?: string }).response_type, "ephemeral");
      assert.match(JSON.stringify(answer), said, text);
    }
  });

  test("with Redis killed: acked at once, told within seconds that Redis is unreachable; back by itself when Redis returns", async () => {
    await redis.kill();
    redisDown = true;
    for (const [text, said] of [
      ["clusters", /Could not read the clusters' last results: .*Redis may be down/],
      ["status", /Could not read xnode's status: .*Redis may be down/],
      ["audit cluster-a", /Could not read the audit trail of cluster-a: .*Redis may be down/],
      ["check cluster-a", /Could not start the check of cluster-a: .*Redis may be down/],
    ] as const) {
      const started = Date.now();
      const { ackMs, ackBody, answer } = await ask(text);
      const answeredMs = Date.now() - started;
      assert.equal(ackBody, undefined, `/xnode ${text}: an empty ack`);
      assert.ok(ackMs < 1000, `/xnode ${text} acked in ${ackMs} ms`);
      assert.ok(answeredMs < 5000, `/xnode ${text} answered in ${answeredMs} ms`);
      assert.match(JSON.stringify(answer), said, text);
    }
    assert.equal(emulator.callsOf("chat.postMessage").length, 0, "no root message for a check that cannot be queued");

    await redis.start();
    redisDown = false;
    const deadline = Date.now() + 10_000;
    let last = "";
    while (Date.now() < deadline) {
      last = JSON.stringify((await ask("clusters")).answer);
      if (!/Could not read/.test(last)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(last, /cluster-a/);
    assert.doesNotMatch(last, /Could not read/, "the same bot answers again once Redis is back");
  });
});

describe("the CLI while Redis is down", () => {
  test("xnode report fails in under 4 s with exit 2 (timed in process, without node's start-up)", async () => {
    const port = await freePort();
    const err: string[] = [];
    const started = Date.now();
    const code = await runCli(["report", "0b9f3c1e-0000-4000-8000-000000000001"], {
      stdout: () => undefined,
      stderr: (t) => err.push(t),
      env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    });
    assert.equal(code, 2);
    assert.ok(Date.now() - started < 4000, `failed after ${Date.now() - started} ms`);
    assert.match(err.join(""), /cannot reach Redis/);
  });

  test("xnode report exits 2 within a few seconds, saying Redis cannot be reached and what to do", async () => {
    const port = await freePort(); // nothing listens here
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "report", "0b9f3c1e-0000-4000-8000-000000000001"], {
      env: { PATH: process.env.PATH, REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 2, `${stderr} (exited after ${Date.now() - started} ms, node and tsx start-up included)`);
    assert.match(stderr, new RegExp(`xnode: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.match(stderr, /Start Redis or fix REDIS_URL/);
    assert.doesNotMatch(stderr, /hunter2/, "the password is not printed");
    assert.equal(stderr.trim().split("\n").length, 1, `one line, no ioredis noise:\n${stderr}`);
  });
});

// `xnode all` as an operator runs it: a real process, JSON logs on stderr,
// answering signed Slack requests, stopping cleanly on SIGTERM; and a clear
// exit when its configuration is incomplete.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { REDIS_URL, SIGNING_SECRET } from "./helpers/xnode-fixture.js";
import { run } from "./helpers/lab-fixture.js";
import { startSlackEmulator } from "./slack/emulator.js";
import { postSlashCommand } from "./slack/signed-request.js";

const XNODE = [process.execPath, "--import", "tsx", "src/main.ts"];

test("xnode all: starts, answers /xnode help, logs JSON without secrets, exits 0 on SIGTERM", async () => {
  const emulator = await startSlackEmulator({ channels: { C0OPS0001: {} } });
  const child = spawn(XNODE[0]!, [...XNODE.slice(1), "all"], {
    env: {
      PATH: process.env.PATH,
      SLACK_BOT_TOKEN: "xoxb-process-test",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: emulator.url,
      REDIS_URL,
      XNODE_REDIS_PREFIX: `xp${randomBytes(4).toString("hex")}`,
      PORT: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "bot started" line; stderr:\n${stderr}`)), 30_000);
      child.stderr.on("data", () => {
        const line = stderr.split("\n").find((l) => l.includes("xnode bot started"));
        if (line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      });
    });
    const res = await postSlashCommand(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, {
      command: "/xnode",
      text: "help",
      user_id: "U0OPS0001",
      channel_id: "C0OPS0001",
    });
    assert.equal(res.status, 200);
    assert.match(JSON.stringify(res.body), /\/xnode check/);
    await new Promise((r) => setTimeout(r, 300)); // let the worker finish starting before it is told to stop
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    const lines = stderr.trim().split("\n").filter(Boolean);
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${l}`);
    assert.ok(lines.some((l) => l.includes("xnode worker started")));
    assert.doesNotMatch(stderr, /xoxb-process-test|xnode-test-signing-secret/);
  } finally {
    child.kill("SIGKILL");
    await emulator.close();
  }
});

test("xnode bot without Slack settings exits 2 naming what is missing", async () => {
  const r = await run(["env", "-i", `PATH=${process.env.PATH}`, `REDIS_URL=${REDIS_URL}`, ...XNODE, "bot"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing SLACK_BOT_TOKEN and SLACK_APP_TOKEN \(Socket Mode\) or SLACK_SIGNING_SECRET \(HTTP\)/);
});

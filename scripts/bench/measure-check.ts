// One bench run: a synthetic cluster of N nodes in the lab, a private Redis,
// the Slack emulator, `xnode bot` and W `xnode worker`s as processes; a signed
// `/xnode check` and everything it costs until the report's last message.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { stringify } from "yaml";
import { Lab, parseScenario, type RequestRecord } from "@xnode/lab";
import { labAdmin } from "@xnode/lab/testing";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { CheckStore } from "../../src/store/check-store.js";
import { startPrivateRedis } from "../../test/faults/private-redis.js";
import { startXnodeProcess, XnodeProcess } from "../../test/faults/xnode-processes.js";
import { startSlackEmulator, type EmulatedMessage } from "../../test/slack/emulator.js";
import { blocksTextLength } from "../../test/slack/emulator/block-kit-limits.js";
import { postSlashCommand } from "../../test/slack/signed-request.js";
import type { SendCommandsInput } from "./send-commands.js";

const CHANNEL = "C0BENCH01";
const USER = "U0BENCH01";
const SECRET = "xnode-bench-signing-secret";
const PING_TIMEOUT_S = 1;

export interface BenchRun {
  nodes: number;
  execLatencyMs: number;
  workers: number;
  wallMs: number;
  lowerBoundMs: number;
  ratio: number;
  execCalls: number;
  redisCommands: number;
  redisBytes: number;
  peakRssMiB: { bot: number; worker: number };
  slackMessages: number;
  maxMessageTextChars: number;
  findings: string[];
  ackP50Ms: number;
  ackP99Ms: number;
  /** the p99 of the `/xnode help` burst that warmed the bot up (ackP50Ms and ackP99Ms are of the checks after it) */
  warmUpAckP99Ms: number;
  /** where the lower bound comes from */
  lowerBound: { listingMs: number; slowestExecMs: number; probeTimeoutMs: number };
  /** each step of the check: when its jobs ran (ms after the slash command) and the workers' memory then */
  phases: Phase[];
}

export interface Phase {
  step: string;
  jobs: number;
  fromMs: number;
  toMs: number;
  maxRssMiB: number;
}

/** The workers' "check step done" lines of one check, per step in the order the steps first ran. */
function phasesOf(workers: readonly XnodeProcess[], checkId: string, t0: number): Phase[] {
  const byStep = new Map<string, Phase>();
  const lines = workers.flatMap((w) => w.logLines().filter((l) => l.msg === "check step done" && l.checkId === checkId));
  for (const l of lines.sort((a, b) => Number(a.startedAt) - Number(b.startedAt))) {
    const [from, to] = [Number(l.startedAt) - t0, Number(l.startedAt) + Number(l.ms) - t0];
    const p = byStep.get(String(l.job));
    if (!p) byStep.set(String(l.job), { step: String(l.job), jobs: 1, fromMs: from, toMs: to, maxRssMiB: Number(l.rssMiB) });
    else
      Object.assign(p, { jobs: p.jobs + 1, fromMs: Math.min(p.fromMs, from), toMs: Math.max(p.toMs, to), maxRssMiB: Math.max(p.maxRssMiB, Number(l.rssMiB)) });
  }
  return [...byStep.values()];
}

export interface BenchOptions {
  nodes: number;
  execLatencyMs: number;
  workers: number;
  /** faults of the synthetic scenario (lab-scenarios/README.md) */
  faults?: unknown[];
  /** slash commands sent at once for the ack latency */
  inFlight: number;
  progress: (line: string) => void;
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Each command's latency in ms, from scripts/bench/send-commands.ts in a process of its own. */
async function sendCommands(input: SendCommandsInput): Promise<number[]> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./send-commands.ts", import.meta.url))], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(JSON.stringify(input));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`send-commands exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as number[];
}

async function redisStats(redis: Redis): Promise<{ commands: number; bytes: number }> {
  const info = await redis.info("stats");
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { commands: field("total_commands_processed"), bytes: field("total_net_input_bytes") + field("total_net_output_bytes") };
}

export async function measureCheck(opts: BenchOptions): Promise<BenchRun> {
  const dir = await mkdtemp(join(tmpdir(), "xnode-bench-"));
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const scenario = parseScenario({
      name: `bench-${opts.nodes}`,
      synthetic: { nodes: opts.nodes, execLatencyMs: opts.execLatencyMs },
      flannel: { network: "10.0.0.0/8" },
      faults: opts.faults ?? [],
    });
    let t = Date.now();
    const lab = await Lab.start(scenario, { name: `bench-${opts.nodes}-${randomBytes(2).toString("hex")}` });
    cleanups.push(() => lab.stop());
    opts.progress(`lab up: ${opts.nodes} synthetic nodes in ${Date.now() - t} ms`);
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, lab.kubeconfig, { mode: 0o600 });
    const redisServer = await startPrivateRedis();
    cleanups.push(() => redisServer.stop());
    const emulator = await startSlackEmulator({ channels: { [CHANNEL]: { member: true } } });
    cleanups.push(() => emulator.close());

    const prefix = `xb${randomBytes(3).toString("hex")}`;
    const configPath = join(dir, "xnode.yaml");
    await writeFile(configPath, stringify({ clusters: [{ name: "synth", kubeconfig }], checks: { pingTimeoutSeconds: PING_TIMEOUT_S } }));
    const env = {
      SLACK_BOT_TOKEN: "xoxb-bench",
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: emulator.url,
      REDIS_URL: redisServer.url,
      XNODE_REDIS_PREFIX: prefix,
      XNODE_CONFIG: configPath,
      LOG_LEVEL: "info",
      // several workers on one machine: each takes any free port for /metrics
      METRICS_PORT: "0",
    };
    const processes: XnodeProcess[] = [];
    cleanups.push(() => Promise.all(processes.map((p) => p.kill("SIGKILL"))));
    const bot = await startXnodeProcess("bot", { ...env, PORT: "0" }, { built: true });
    processes.push(bot);
    const botUrl = `http://127.0.0.1:${String((await bot.waitForLog((l) => l.msg === "xnode bot started")).port)}/slack/events`;
    // debug: the workers log each check step's time and memory ("check step done"), the phases below
    const workers = await Promise.all(Array.from({ length: opts.workers }, () => startXnodeProcess("worker", { ...env, LOG_LEVEL: "debug" }, { built: true })));
    processes.push(...workers);

    // The lower bound's first part: what listing the cluster costs through the same client.
    const kube = createKubeClient({ cluster: "synth", kubeconfig });
    t = Date.now();
    await Promise.all([kube.listNodes(), kube.listPods(undefined), kube.listServices()]);
    const listingMs = Date.now() - t;

    const redis = new Redis(redisServer.url);
    cleanups.push(async () => redis.disconnect());
    await redis.config("RESETSTAT");
    const requests = async () => (await labAdmin(lab, "GET", "/_lab/requests")).json as RequestRecord[];
    const execsBefore = (await requests()).length;
    const started = Date.now();
    const res = await postSlashCommand(botUrl, SECRET, { command: "/xnode", text: "check synth", user_id: USER, channel_id: CHANNEL });
    if (res.status !== 200) throw new Error(`the bot answered the slash command with ${res.status}`);
    const queued = await bot.waitForLog((l) => l.msg === "check queued", 30_000);
    // One wait over all workers: racing one wait per worker would leave the losers ticking until their timeout.
    const finished = await XnodeProcess.firstLog(workers, (l) => l.msg === "check finished" && l.checkId === queued.checkId, 600_000);
    const wallMs = Number(finished.time) - started;
    const stats = await redisStats(redis);
    const execs = (await requests()).slice(execsBefore).filter((r) => r.subresource === "exec");
    const slowestExecMs = Math.max(0, ...execs.map((r) => r.durationMs ?? 0));
    // A root with replies carries its own ts as thread_ts, as in Slack.
    const root = emulator.messages(CHANNEL).find((m) => !m.thread_ts || m.thread_ts === m.ts);
    const thread: EmulatedMessage[] = root ? emulator.thread(CHANNEL, root.ts) : [];
    const report = await new CheckStore(redis, `${prefix}:`).getReport(String(queued.checkId));
    const probeTimeoutMs = report?.matrix.some((e) => !e.ok) ? PING_TIMEOUT_S * 1000 : 0;
    const lowerBoundMs = listingMs + slowestExecMs + probeTimeoutMs;
    opts.progress(`check of ${opts.nodes} nodes: ${wallMs} ms, ${execs.length} execs, ${thread.length} messages`);
    const phases = phasesOf(workers, String(queued.checkId), started);
    for (const p of phases) opts.progress(`  ${p.step}: ${p.jobs} jobs, ${p.fromMs}–${p.toMs} ms after the command, worker RSS up to ${p.maxRssMiB} MiB`);

    // Ack latency with many commands in flight: they all ask for the same cluster (one runs, the rest join).
    // Sent by scripts/bench/send-commands.ts (what a latency spans is said there). Before them as many
    // `/xnode help`, answered in the ack and leaving nothing running: the bot's HTTP, signature and
    // listener code compiled, as in a bot that has served for a while; that burst's p99 is kept too.
    const burst = (text: string) =>
      sendCommands({
        url: botUrl,
        signingSecret: SECRET,
        commands: Array.from({ length: opts.inFlight }, (_, i) => ({
          command: "/xnode",
          text,
          user_id: `U0LOAD${String(i).padStart(4, "0")}`,
          channel_id: CHANNEL,
        })),
      });
    const warmUpAcks = (await burst("help")).sort((a, b) => a - b);
    const acks = (await burst("check synth")).sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      nodes: opts.nodes,
      execLatencyMs: opts.execLatencyMs,
      workers: opts.workers,
      wallMs,
      lowerBoundMs,
      ratio: round(wallMs / Math.max(1, lowerBoundMs)),
      execCalls: execs.length,
      redisCommands: stats.commands,
      redisBytes: stats.bytes,
      peakRssMiB: { bot: await peakRssMiB(bot.pid), worker: Math.max(...(await Promise.all(workers.map((w) => peakRssMiB(w.pid))))) },
      slackMessages: thread.length,
      maxMessageTextChars: Math.max(0, ...thread.map((m) => blocksTextLength(m.blocks ?? []))),
      findings: report?.findings.map((f) => f.id) ?? [],
      ackP50Ms: round(percentile(acks, 50)),
      ackP99Ms: round(percentile(acks, 99)),
      warmUpAckP99Ms: round(percentile(warmUpAcks, 99)),
      lowerBound: { listingMs, slowestExecMs, probeTimeoutMs },
      phases,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

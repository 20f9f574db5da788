// The rig every fault test runs on: a lab cluster, the Slack emulator, a Redis
// the test owns, `xnode bot` and two `xnode worker`s as real processes. It
// asks for checks the way Slack does (signed slash commands), reads the
// answers from the emulator's threads, and prints each test's figures as one
// JSON line (`FAULT-FIGURES {...}`) for the README's Reliability table.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { labAdmin, podOn, startLab, type StartedLab } from "../helpers/lab-fixture.js";
import { textOf } from "../helpers/slack-flow.js";
import { SIGNING_SECRET } from "../helpers/xnode-fixture.js";
import { startSlackEmulator, type EmulatedMessage, type SlackEmulator, type SlackEmulatorOptions } from "../slack/emulator.js";
import { postSlashCommand } from "../slack/signed-request.js";
import { startXnodeProcess, type XnodeProcess } from "./xnode-processes.js";

export const CHANNEL = "C0FAULTS1";
export const USER = "U0FAULTS1";
const HOST_AGENT = "app.kubernetes.io/name=xnode-host-agent";

export interface FaultRig {
  lab: StartedLab;
  emulator: SlackEmulator;
  bot: XnodeProcess;
  botUrl: string;
  workers: XnodeProcess[];
  /** the environment every xnode process gets */
  env: Record<string, string>;
  startWorker(): Promise<XnodeProcess>;
  /** `/xnode check <cluster>` (default lab) by USER in CHANNEL; resolves with the check's root message */
  requestCheck(cluster?: string): Promise<EmulatedMessage>;
  /** Whatever `ask` does (a slash command, a click) starts a check: resolves with its root message. */
  newCheck(ask: () => Promise<{ status: number }>): Promise<EmulatedMessage>;
  /** Waits until the root message says the check failed, or a worker logged that it finished (its report posted). */
  settled(root: EmulatedMessage, timeoutMs: number): Promise<{ root: EmulatedMessage; replies: EmulatedMessage[] }>;
  /** Makes every exec into the host agent on `node` hang (until the exec times out) or stops that. */
  hangHostAgent(node: string, hang: boolean): Promise<void>;
  /** Resolves once the lab saw an exec into the host agent on `node` since `since` (ms since the epoch). */
  execSeen(node: string, since: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RigOptions {
  scenario?: string;
  /** REDIS_URL of the processes (the test's own Redis) */
  redisUrl: string;
  /** extra XNODE_CONFIG keys (merged over the defaults) */
  file?: Record<string, unknown>;
  workers?: number;
  emulator?: SlackEmulatorOptions;
  /** extra clusters, e.g. one with a broken kubeconfig */
  clusters?: (lab: StartedLab, dir: string) => Promise<{ name: string; kubeconfig: string }[]>;
}

export async function startFaultRig(opts: RigOptions): Promise<FaultRig> {
  const lab = await startLab(opts.scenario ?? "healthy-three-nodes");
  const emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} }, ...opts.emulator });
  const dir = await mkdtemp(join(tmpdir(), "xnode-faults-"));
  const started: XnodeProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.kill("SIGKILL")));
    await emulator.close();
    await lab.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const extra = opts.clusters ? await opts.clusters(lab, dir) : [];
    const configPath = join(dir, "xnode.yaml");
    const file = {
      clusters: [{ name: "lab", kubeconfig: lab.kubeconfigPath }, ...extra],
      checks: { execTimeoutSeconds: 6, pingTimeoutSeconds: 1, concurrency: 4 },
      ...opts.file,
    };
    await writeFile(configPath, stringify(file));
    const env = {
      SLACK_BOT_TOKEN: "xoxb-faults",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: emulator.url,
      REDIS_URL: opts.redisUrl,
      XNODE_REDIS_PREFIX: `xf${randomBytes(4).toString("hex")}`,
      XNODE_CONFIG: configPath,
    };
    const startWorker = async () => {
      const w = await startXnodeProcess("worker", env);
      started.push(w);
      return w;
    };
    const bot = await startXnodeProcess("bot", { ...env, PORT: "0" });
    started.push(bot);
    const botUrl = `http://127.0.0.1:${String((await bot.waitForLog((l) => l.msg === "xnode bot started")).port)}/slack/events`;
    const workers = await Promise.all(Array.from({ length: opts.workers ?? 2 }, startWorker));

    const checkIds = new Map<string, string>(); // root ts → check id, from the bot's "check queued" line
    const newCheck = async (ask: () => Promise<{ status: number }>) => {
      const seen = new Set(emulator.messages(CHANNEL).map((m) => m.ts));
      const res = await ask();
      if (res.status !== 200) throw new Error(`the bot answered ${res.status}`);
      const root = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => !seen.has(m.ts) && !m.thread_ts && textOf(m).includes(USER)), 10_000);
      const queued = await bot.waitForLog((l) => l.msg === "check queued" && ![...checkIds.values()].includes(String(l.checkId)));
      checkIds.set(root.ts, String(queued.checkId));
      return root;
    };
    const hostAgent = (node: string) => podOn(lab.kubeconfigPath, "xnode-system", HOST_AGENT, node);
    return {
      lab,
      emulator,
      bot,
      botUrl,
      workers,
      env,
      startWorker,
      requestCheck: (cluster = "lab") =>
        newCheck(() => postSlashCommand(botUrl, SIGNING_SECRET, { command: "/xnode", text: `check ${cluster}`, user_id: USER, channel_id: CHANNEL })),
      newCheck,
      async settled(root, timeoutMs) {
        const checkId = checkIds.get(root.ts);
        // The root turns "done" before the report's replies go out; the worker logs "check finished" after the last.
        const finished = () => started.some((p) => p.logLines().some((l) => l.msg === "check finished" && l.checkId === checkId));
        const failed = (m: EmulatedMessage) => m.ts === root.ts && /^xnode: checking \S+ failed/.test(m.text);
        await emulator.waitFor(() => finished() || emulator.thread(CHANNEL, root.ts).some(failed), timeoutMs);
        const thread = emulator.thread(CHANNEL, root.ts);
        return { root: thread.find((m) => m.ts === root.ts)!, replies: thread.filter((m) => m.ts !== root.ts) };
      },
      async hangHostAgent(node, hang) {
        const res = await labAdmin(lab.lab, "POST", "/_lab/exec-hang", { namespace: "xnode-system", pod: await hostAgent(node), hang });
        if (res.status !== 200) throw new Error(`exec-hang answered ${res.status}`);
      },
      async execSeen(node, since, timeoutMs = 30_000) {
        const pod = await hostAgent(node);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const log = (await labAdmin(lab.lab, "GET", "/_lab/requests")).json as { time: string; name?: string; subresource?: string }[];
          if (log.some((r) => r.name === pod && r.subresource === "exec" && Date.parse(r.time) >= since)) return;
          if (Date.now() > deadline) throw new Error(`no exec into ${pod} within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Replies that appear more than once (same text and blocks): duplicates. */
export function duplicates(replies: EmulatedMessage[]): number {
  const texts = replies.map((m) => textOf(m));
  return texts.length - new Set(texts).size;
}

/** The report's summary messages in a thread: exactly one for one report. */
export function summaries(replies: EmulatedMessage[], cluster = "lab"): number {
  return replies.filter((m) => JSON.stringify(m.blocks ?? []).includes(`"xnode check: ${cluster}"`)).length;
}

/** Reports missing from a thread that should hold one. */
export function lostReports(replies: EmulatedMessage[]): number {
  return Math.max(0, 1 - summaries(replies));
}

/** One line the README's Reliability table is filled from. */
export function printFigures(figures: Record<string, unknown>): void {
  console.log(`FAULT-FIGURES ${JSON.stringify(figures)}`);
}

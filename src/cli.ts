// xnode check <cluster> [--config FILE] [--kubeconfig FILE] [--context NAME] [--json]
// Exit 0 healthy, 1 findings, 2 error. Progress goes to stderr, the report to stdout.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { traceNodes } from "./check/observe-packets.js";
import { runCheck } from "./check/run-check.js";
import { CLUSTER_OPTIONS, openCluster } from "./cli/open-cluster.js";
import { renderTextReport } from "./cli/render-text-report.js";
import { renderTextTrace } from "./cli/render-text-trace.js";
import { loadConfig, redisTarget, type Config } from "./config.js";
import { errorMessage, XnodeError } from "./errors.js";
import { problemsOf, traceVerdict, type CheckReport, type ProgressEvent } from "./model/index.js";
import { createLogger } from "./logger.js";
import { startBot, type RunningProcess } from "./processes/bot-process.js";
import { startWorker } from "./processes/worker-process.js";
import { CheckStore } from "./store/check-store.js";
import { recordCheck } from "./store/record-check.js";
import { createRedis, redactRedisUrl, redisUnreachable } from "./store/redis-connection.js";

export const USAGE = `usage:
  xnode check <cluster> [--config FILE] [--kubeconfig FILE] [--context NAME] [--json]
  xnode trace <cluster> <from-node> <to-node> [--config FILE] [--kubeconfig FILE] [--context NAME] [--json]
                   capture one probe from a pod on <from-node> to a pod on <to-node> on every hop
  xnode report <check-id> [--json]   a stored report (the id is on the Slack message; kept 7 days)
  xnode bot        the Slack app (HTTP with SLACK_SIGNING_SECRET, Socket Mode with SLACK_APP_TOKEN)
  xnode worker     the BullMQ workers that run checks
  xnode all        both in one process, for small installs

  <cluster>      a cluster from the config file (XNODE_CONFIG or --config);
                 with --kubeconfig it is only a label for the report
  --json         print one JSON object instead of the text report
exit status: 0 healthy, 1 problems found, 2 error`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

function progressLine(ev: ProgressEvent): string {
  switch (ev.phase) {
    case "snapshot":
      return `read cluster state: ${ev.nodes} nodes`;
    case "inspect":
      return `inspected ${ev.node} (${ev.done}/${ev.total})${ev.ok ? "" : " with errors"}`;
    case "reach":
      return `probed from ${ev.node} (${ev.done}/${ev.total})`;
    case "diagnose":
      return `diagnosed: ${ev.findings} finding(s)`;
  }
}

export async function checkCommand(args: string[], io: CliIo = defaultIo): Promise<number> {
  const positionals = parseArgs({ args, allowPositionals: true, options: CLUSTER_OPTIONS }).positionals;
  if (positionals.length !== 1) throw new XnodeError("CONFIG_INVALID", "check needs exactly one cluster name", USAGE);
  const { kube, config, checks, configured, json } = openCluster(args, io.env);
  const { report } = await runCheck(kube, {
    execTimeoutMs: checks.execTimeoutSeconds * 1000,
    pingTimeoutSeconds: checks.pingTimeoutSeconds,
    onProgress: (ev) => io.stderr(`xnode: ${progressLine(ev)}\n`),
  });
  // A configured cluster is one Slack knows too: record the check like the bot would. A
  // --kubeconfig label is a one-off and is not recorded.
  if (configured) await recordFromCli(io, config, report);
  printReport(io, report, json);
  return problemsOf(report.findings).length > 0 ? 1 : 0;
}

async function traceCommand(args: string[], io: CliIo): Promise<number> {
  const positionals = parseArgs({ args, allowPositionals: true, options: CLUSTER_OPTIONS }).positionals;
  if (positionals.length !== 3) throw new XnodeError("CONFIG_INVALID", "trace needs a cluster, a from-node and a to-node", USAGE);
  const [, from, to] = positionals as [string, string, string];
  const { kube, checks, json } = openCluster(args, io.env);
  io.stderr(`xnode: capturing a probe from ${from}'s pod agent to ${to}'s on every hop…\n`);
  const trace = await traceNodes(kube, from, to, { execTimeoutMs: checks.execTimeoutSeconds * 1000 });
  io.stdout(json ? `${JSON.stringify(trace, null, 2)}\n` : `${renderTextTrace(trace)}\n`);
  return traceVerdict(trace) === "delivered" ? 0 : 1;
}

async function recordFromCli(io: CliIo, config: Config, report: CheckReport): Promise<void> {
  const { env } = config;
  const redis = createRedis(redisTarget(config), { failFast: true });
  redis.on("error", () => undefined); // reported below, once
  try {
    const id = randomUUID();
    await recordCheck(new CheckStore(redis, `${env.XNODE_REDIS_PREFIX}:`), id, report, { finishedAt: new Date().toISOString() });
    io.stderr(`xnode: recorded as ${id} (xnode report ${id}; /xnode clusters shows this verdict)\n`);
  } catch (err) {
    io.stderr(
      `xnode: the check was not recorded: Redis at ${redactRedisUrl(redisTarget(config))} is unreachable (${errorMessage(err)}); /xnode clusters keeps its previous verdict\n`,
    );
  } finally {
    redis.disconnect();
  }
}

function printReport(io: CliIo, report: CheckReport, json: boolean): void {
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : `${renderTextReport(report)}\n`);
}

async function reportCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean", default: false } } });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new XnodeError("CONFIG_INVALID", "report needs exactly one check id", USAGE);
  const config = loadConfig(io.env);
  const { env } = config;
  const redis = createRedis(redisTarget(config), { failFast: true });
  redis.on("error", () => undefined); // the failed command below says it
  try {
    const report = await new CheckStore(redis, `${env.XNODE_REDIS_PREFIX}:`).getReport(id).catch((err: unknown) => {
      throw redisUnreachable(redisTarget(config), err);
    });
    if (!report)
      throw new XnodeError("CONFIG_INVALID", `no report with id ${id}`, "Reports are kept for 7 days; check the id (and REDIS_URL / XNODE_REDIS_PREFIX).");
    printReport(io, report, values.json ?? false);
    return 0;
  } finally {
    redis.disconnect();
  }
}

/** Runs until SIGTERM/SIGINT, then stops cleanly (jobs in flight finish or return to the queue). */
async function serve(command: "bot" | "worker" | "all", io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const logger = createLogger(config.env.LOG_LEVEL);
  // A rejection nobody awaits (Bolt's Socket Mode client when Slack refuses a reconnect, e.g. a
  // revoked app token) ends the process with one JSON line instead of a bare stack; the restarted
  // process then says at start what is wrong.
  process.once("unhandledRejection", (err) => {
    logger.fatal({ err }, `stopping: ${errorMessage(err)}`);
    process.exit(1);
  });
  const running: RunningProcess[] = [];
  if (command !== "worker") running.push(await startBot(config, logger));
  if (command !== "bot") running.push(await startWorker(config, logger));
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  logger.info("shutting down");
  await Promise.all(running.map((r) => r.stop()));
  return 0;
}

export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "check") return await checkCommand(rest, io);
    if (command === "report") return await reportCommand(rest, io);
    if (command === "trace") return await traceCommand(rest, io);
    if (command === "bot" || command === "worker" || command === "all") return await serve(command, io);
    if (command === "help" || command === "--help" || command === "-h") {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    io.stderr(`xnode: unknown command "${command ?? ""}"\n${USAGE}\n`);
    return 2;
  } catch (err) {
    io.stderr(`xnode: ${errorMessage(err)}\n`);
    return 2;
  }
}

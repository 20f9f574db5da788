// `xnode bot`: the Bolt app (HTTP or Socket Mode) and its listeners.
import type { Server } from "node:http";
import bolt from "@slack/bolt";
import { slackMode, type Config } from "../config.js";
import { policyFromConfig } from "../approvals/approval-policy.js";
import { approveActionListener, rejectActionListener } from "../handlers/decision-actions.js";
import { rerunActionListener } from "../handlers/rerun-action.js";
import { unknownActionListener } from "../handlers/unknown-action.js";
import { ROLLBACK_ACTION } from "../slack/render/render-fix.js";
import { xnodeCommandListener } from "../handlers/xnode-command.js";
import type { RequestCheckDeps } from "../handlers/request-check.js";
import { errorMessage, XnodeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { XnodeMetrics } from "../ops/metrics.js";
import { OPS_PATHS, opsHandler, redisReadiness, startOpsServer, type OpsServer } from "../ops/ops-server.js";
import { renderRootMessage } from "../slack/render/render-root-message.js";
import { retryAfterFetch } from "../slack/retry-after-fetch.js";
import { signedHttpReceiver } from "./signed-http-receiver.js";
import { SlackConnection } from "./slack-connection.js";
import { slackLogger } from "./slack-logger.js";
import { openSharedServices } from "./shared-services.js";

export interface RunningProcess {
  /** HTTP mode: the port Bolt listens on */
  port?: number;
  /** where /healthz, /readyz and /metrics are served (the bot: its port in both modes) */
  opsPort?: number;
  stop(): Promise<void>;
}

export async function startBot(
  config: Config,
  logger: Logger,
  /** socketStuckMs: how long the socket may stay down before /healthz fails (default SOCKET_STUCK_MS) */
  opts: { port?: number; host?: string; socketStuckMs?: number } = {},
): Promise<RunningProcess> {
  const mode = slackMode(config.env);
  const metrics = new XnodeMetrics("bot");
  const services = await openSharedServices(config, logger, { failFast: true, metrics });
  metrics.watchQueues([services.queue, services.fixQueue, services.digestQueue]);
  const clusters = config.file.clusters.map((c) => c.name);
  const log = logger.child({ process: "bot" });
  const requestCheckDeps: RequestCheckDeps = {
    queue: services.queue,
    store: services.store,
    slack: services.slack,
    audit: services.audit,
    logger: log,
    render: {
      queued: (c) => renderRootMessage({ state: "queued", cluster: c.cluster, requestedBy: c.requestedBy }),
      // The running check's record can lag its claim by a moment: fall back to what the joiner knows.
      joined: (cluster, running, user, threadLink) =>
        renderRootMessage({ state: "joined", cluster, requestedBy: running?.requestedBy ?? user, joinedBy: user, ...(threadLink ? { threadLink } : {}) }),
    },
  };
  const clientOptions = { fetch: retryAfterFetch(), ...(config.env.SLACK_API_URL ? { slackApiUrl: config.env.SLACK_API_URL } : {}) };
  const slack = new SlackConnection(opts.socketStuckMs);
  const ops = opsHandler(metrics, { live: mode.mode === "socket" ? [slack.live] : [], ready: [redisReadiness(services.redis), slack.ready] }, log);
  const socketReceiver =
    mode.mode === "socket"
      ? new bolt.SocketModeReceiver({
          appToken: mode.appToken,
          logger: slackLogger(log.child({ component: "bolt-socket" })),
          installerOptions: { clientOptions },
        })
      : undefined;
  if (socketReceiver) slack.watch(socketReceiver.client);
  const app =
    mode.mode === "socket"
      ? new bolt.App({
          token: mode.botToken,
          receiver: socketReceiver,
          clientOptions,
          logger: slackLogger(log.child({ component: "bolt" })),
          deferInitialization: true,
        })
      : new bolt.App({
          token: mode.botToken,
          receiver: signedHttpReceiver({
            signingSecret: mode.signingSecret,
            logger: slackLogger(log.child({ component: "bolt-http" })),
            customRoutes: Object.values(OPS_PATHS).map((path) => ({ path, method: ["GET"], handler: ops })),
          }),
          clientOptions,
          logger: slackLogger(log.child({ component: "bolt" })),
          deferInitialization: true,
        });
  // Deferred so a bad token is an error we report, not an unhandled rejection from the constructor's auth.test.
  try {
    await app.init();
  } catch (err) {
    await services.close();
    throw new XnodeError("CONFIG_INVALID", `Slack rejected the bot token: ${errorMessage(err)}`, "Check SLACK_BOT_TOKEN (and SLACK_API_URL if set).", {
      cause: err,
    });
  }
  app.command(
    "/xnode",
    xnodeCommandListener({
      clusters,
      queue: services.queue,
      store: services.store,
      audit: services.audit,
      digestQueue: services.digestQueue,
      digests: config.file.digests,
      logger: log,
      requestCheckDeps,
    }),
  );
  const decisionDeps = {
    approvals: services.approvals,
    audit: services.audit,
    policy: policyFromConfig(config.file),
    slack: services.slack,
    fixQueue: services.fixQueue,
    logger: log,
    fixLockSeconds: config.file.checks.rolloutTimeoutSeconds + 300,
    countOutcome: (outcome: string) => metrics.approvalDecided(outcome),
  };
  const buttons: [string | RegExp, ReturnType<typeof approveActionListener>][] = [
    ["xnode_rerun", rerunActionListener({ clusters, logger: log, requestCheckDeps })],
    [/^xnode_approve_\d+$/, approveActionListener(decisionDeps)],
    [ROLLBACK_ACTION, approveActionListener(decisionDeps)],
    ["xnode_reject", rejectActionListener(decisionDeps)],
  ];
  for (const [actionId, listener] of buttons) app.action(actionId, listener);
  const isKnown = (id: string) => buttons.some(([p]) => (typeof p === "string" ? p === id : p.test(id)));
  app.action(/[\s\S]*/, unknownActionListener({ isKnown, logger: log }));
  app.error(async (err) => {
    log.error({ err }, "unhandled error in a Slack listener");
  });

  const port = opts.port ?? config.env.PORT;
  // Socket Mode has no HTTP server of its own: the probes get one on the bot's port.
  let opsServer: OpsServer | undefined;
  if (mode.mode === "socket") opsServer = await startOpsServer(ops, port, log, opts.host);
  let started: unknown;
  try {
    started = mode.mode === "http" ? await app.start({ port, host: opts.host }) : await app.start();
  } catch (err) {
    await opsServer?.close();
    await services.close();
    const what = mode.mode === "socket" ? "open a Socket Mode connection" : `listen on port ${port}`;
    const hint = mode.mode === "socket" ? "Check SLACK_APP_TOKEN: an app-level token (xapp-…) with the connections:write scope." : "Free the port or set PORT.";
    throw new XnodeError("CONFIG_INVALID", `cannot ${what}: ${errorMessage(err)}`, hint, { cause: err });
  }
  if (mode.mode === "http") slack.up();
  const address = mode.mode === "http" ? (started as Server).address() : null;
  const boundPort = address && typeof address === "object" ? address.port : undefined;
  log.info({ mode: mode.mode, port: boundPort, opsPort: boundPort ?? opsServer?.port, clusters }, "xnode bot started");
  return {
    port: boundPort,
    opsPort: boundPort ?? opsServer?.port,
    async stop() {
      await app.stop();
      await opsServer?.close();
      await services.close();
    },
  };
}

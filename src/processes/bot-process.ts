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
import { renderRootMessage } from "../slack/render/render-root-message.js";
import { retryAfterFetch } from "../slack/retry-after-fetch.js";
import { signedHttpReceiver } from "./signed-http-receiver.js";
import { slackLogger } from "./slack-logger.js";
import { openSharedServices } from "./shared-services.js";

export interface RunningProcess {
  /** HTTP mode: the port Bolt listens on */
  port?: number;
  stop(): Promise<void>;
}

export async function startBot(config: Config, logger: Logger, opts: { port?: number; host?: string } = {}): Promise<RunningProcess> {
  const mode = slackMode(config.env);
  const services = await openSharedServices(config, logger, { failFast: true });
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
  const app =
    mode.mode === "socket"
      ? new bolt.App({
          token: mode.botToken,
          appToken: mode.appToken,
          socketMode: true,
          clientOptions,
          logger: slackLogger(log.child({ component: "bolt" })),
          deferInitialization: true,
        })
      : new bolt.App({
          token: mode.botToken,
          receiver: signedHttpReceiver({ signingSecret: mode.signingSecret, logger: slackLogger(log.child({ component: "bolt-http" })) }),
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

  const started = mode.mode === "http" ? ((await app.start({ port: opts.port ?? mode.port, host: opts.host })) as Server) : await app.start();
  const address = mode.mode === "http" ? (started as Server).address() : null;
  const boundPort = address && typeof address === "object" ? address.port : undefined;
  log.info({ mode: mode.mode, port: boundPort, clusters }, "xnode bot started");
  return {
    port: boundPort,
    async stop() {
      await app.stop();
      await services.close();
    },
  };
}

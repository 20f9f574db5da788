// `xnode worker`: runs the check, fix and digest jobs. Scales separately from the bot.
import { FlowProducer, Worker } from "bullmq";
import { findCluster, redisTarget, type Config } from "../config.js";
import { CHECK_QUEUE } from "../jobs/check-payloads.js";
import { CHECK_STALLED_OPTIONS, FIX_STALLED_OPTIONS } from "../jobs/stalled-jobs.js";
import { policyFromConfig } from "../approvals/approval-policy.js";
import { issueApprovals } from "../approvals/issue-approvals.js";
import { checkFailureHandler, createCheckProcessor, type CheckWorkerDeps } from "../jobs/check-processors.js";
import { FIX_QUEUE } from "../jobs/fix-payloads.js";
import { DigestState } from "../digest/digest-state.js";
import { startDigestWorker } from "../digest/digest-worker.js";
import { syncDigestSchedules } from "../digest/sync-digest-schedules.js";
import { createFixProcessor } from "../jobs/fix-processor.js";
import { createKubeClient, type KubeClient } from "../kube/kube-client.js";
import type { Logger } from "../logger.js";
import { countingKube, countingNotifier } from "../ops/instrument.js";
import { XnodeMetrics } from "../ops/metrics.js";
import { opsHandler, redisReadiness, startOpsServer } from "../ops/ops-server.js";
import { slackCheckNotifier } from "../slack/slack-check-notifier.js";
import { EvidenceStore } from "../store/evidence-store.js";
import { PostLedger } from "../store/post-ledger.js";
import { createRedis } from "../store/redis-connection.js";
import type { RunningProcess } from "./bot-process.js";
import { openSharedServices } from "./shared-services.js";

const DIGEST_CLUSTERS_AT_ONCE = 4;

export async function startWorker(config: Config, logger: Logger): Promise<RunningProcess> {
  const metrics = new XnodeMetrics("worker");
  const services = await openSharedServices(config, logger, { metrics });
  metrics.watchQueues([services.queue, services.fixQueue, services.digestQueue]);
  const log = logger.child({ process: "worker" });
  const checks = config.file.checks;
  const policy = policyFromConfig(config.file);
  const kubes = new Map<string, KubeClient>();
  const kubeFor = (cluster: string): KubeClient => {
    let kube = kubes.get(cluster);
    if (!kube) {
      const c = findCluster(config.file, cluster);
      kube = countingKube(
        createKubeClient({
          cluster: c.name,
          kubeconfig: c.kubeconfig,
          inCluster: c.inCluster,
          context: c.context,
          flannel: c.flannel,
          maxConcurrentExecs: checks.maxConcurrentExecs,
        }),
        metrics,
      );
      kubes.set(cluster, kube);
    }
    return kube;
  };
  // Workers block on their connection: give them their own.
  const workerConnection = createRedis(redisTarget(config));
  const flows = new FlowProducer({ connection: services.redis, prefix: services.prefix });
  const posted = new PostLedger(services.redis, `${services.prefix}:`);
  const checkDeps: CheckWorkerDeps = {
    kubeFor,
    store: services.store,
    evidence: new EvidenceStore(services.redis, `${services.prefix}:`),
    notifier: countingNotifier(slackCheckNotifier(services.slack, log, posted), metrics),
    issueApprovals: (kube, check, report, snapshot) =>
      issueApprovals({ approvals: services.approvals, policy, now: () => new Date() }, kube, check, report, snapshot),
    flows,
    execTimeoutMs: checks.execTimeoutSeconds * 1000,
    pingTimeoutSeconds: checks.pingTimeoutSeconds,
    logger: log,
  };
  const processor = createCheckProcessor(checkDeps);
  const onCheckFailed = checkFailureHandler(checkDeps);
  const worker = new Worker(CHECK_QUEUE, (job) => processor(job), {
    connection: workerConnection,
    prefix: services.prefix,
    concurrency: checks.concurrency,
    ...CHECK_STALLED_OPTIONS,
  });
  const fixProcessor = createFixProcessor({
    kubeFor,
    approvals: services.approvals,
    audit: services.audit,
    checks: services.store,
    slack: services.slack,
    posted,
    logger: log,
    execTimeoutMs: checks.execTimeoutSeconds * 1000,
    pingTimeoutSeconds: checks.pingTimeoutSeconds,
    rolloutTimeoutMs: checks.rolloutTimeoutSeconds * 1000,
    expiryMinutes: config.file.approvals.expiryMinutes,
  });
  const fixConnection = createRedis(redisTarget(config));
  const fixWorker = new Worker(FIX_QUEUE, (job) => fixProcessor(job), {
    connection: fixConnection,
    prefix: services.prefix,
    concurrency: 4,
    ...FIX_STALLED_OPTIONS,
  });
  fixWorker.on("error", (err) => log.error({ err }, "fix worker error"));
  worker.on("failed", (job, err) => {
    log.warn({ err, jobId: job?.id, jobName: job?.name, requestId: job?.data?.requestId, attempts: job?.attemptsMade }, "job failed");
    void onCheckFailed(job, err).catch((e: unknown) => log.error({ err: e, jobId: job?.id }, "could not report a failed check"));
  });
  worker.on("error", (err) => log.error({ err }, "worker error"));
  // Every replica syncs: the scheduler ids are stable, so replicas converge on one schedule per digest.
  await syncDigestSchedules(services.digestQueue, config.file.digests, log);
  const digestConnection = createRedis(redisTarget(config));
  const digestWorker = startDigestWorker(
    {
      kubeFor,
      store: services.store,
      slack: services.slack,
      state: new DigestState(services.redis, `${services.prefix}:`),
      execTimeoutMs: checks.execTimeoutSeconds * 1000,
      pingTimeoutSeconds: checks.pingTimeoutSeconds,
      // whole checks of several clusters in this process: fewer at once than check steps
      concurrency: DIGEST_CLUSTERS_AT_ONCE,
      logger: log,
      scheduleExists: async (id) => !!(await services.digestQueue.getJobScheduler(id)),
      counter: metrics,
    },
    { connection: digestConnection, prefix: services.prefix },
  );
  await Promise.all([worker.waitUntilReady(), fixWorker.waitUntilReady(), digestWorker.waitUntilReady()]);
  const workers = { name: "workers", ok: () => [worker, fixWorker, digestWorker].every((w) => w.isRunning()) };
  const opsServer = await startOpsServer(opsHandler(metrics, { ready: [redisReadiness(services.redis), workers] }, log), config.env.METRICS_PORT, log);
  log.info({ concurrency: checks.concurrency, opsPort: opsServer.port }, "xnode worker started");
  return {
    opsPort: opsServer.port,
    async stop() {
      await opsServer.close();
      await Promise.all([worker.close(), fixWorker.close(), digestWorker.close()]);
      fixConnection.disconnect();
      digestConnection.disconnect();
      await flows.close();
      workerConnection.disconnect();
      await services.close();
    },
  };
}

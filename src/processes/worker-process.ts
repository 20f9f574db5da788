// `xnode worker`: runs check jobs. Scales separately from the bot.
import { FlowProducer, Worker } from "bullmq";
import { findCluster, type Config } from "../config.js";
import { CHECK_QUEUE } from "../jobs/check-payloads.js";
import { createCheckProcessor } from "../jobs/check-processors.js";
import { createKubeClient, type KubeClient } from "../kube/kube-client.js";
import type { Logger } from "../logger.js";
import { slackCheckNotifier } from "../slack/slack-check-notifier.js";
import { createRedis } from "../store/redis-connection.js";
import type { RunningProcess } from "./bot-process.js";
import { openSharedServices } from "./shared-services.js";

export async function startWorker(config: Config, logger: Logger): Promise<RunningProcess> {
  const services = await openSharedServices(config);
  const log = logger.child({ process: "worker" });
  const checks = config.file.checks;
  const kubes = new Map<string, KubeClient>();
  const kubeFor = (cluster: string): KubeClient => {
    let kube = kubes.get(cluster);
    if (!kube) {
      const c = findCluster(config.file, cluster);
      kube = createKubeClient({ cluster: c.name, kubeconfig: c.kubeconfig, context: c.context });
      kubes.set(cluster, kube);
    }
    return kube;
  };
  // Workers block on their connection: give them their own.
  const workerConnection = createRedis(config.env.REDIS_URL);
  const flows = new FlowProducer({ connection: services.redis, prefix: services.prefix });
  const processor = createCheckProcessor({
    kubeFor,
    store: services.store,
    notifier: slackCheckNotifier(services.slack, log),
    flows,
    execTimeoutMs: checks.execTimeoutSeconds * 1000,
    pingTimeoutSeconds: checks.pingTimeoutSeconds,
    logger: log,
  });
  const worker = new Worker(CHECK_QUEUE, (job) => processor(job), {
    connection: workerConnection,
    prefix: services.prefix,
    concurrency: checks.concurrency,
  });
  worker.on("failed", (job, err) => log.warn({ err, jobId: job?.id, jobName: job?.name, requestId: job?.data?.requestId, attempts: job?.attemptsMade }, "job failed"));
  worker.on("error", (err) => log.error({ err }, "worker error"));
  await worker.waitUntilReady();
  log.info({ concurrency: checks.concurrency }, "xnode worker started");
  return {
    async stop() {
      await worker.close();
      await flows.close();
      workerConnection.disconnect();
      await services.close();
    },
  };
}

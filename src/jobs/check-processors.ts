// The steps of a check as BullMQ jobs. A check is two flows in a row because
// the reachability round needs every node's addresses first:
//   check-start (snapshot) → flow 1: check-inspect × chunks of nodes → check-plan
//   check-plan → flow 2: check-reach × chunks of nodes → check-diagnose (report, answers)
// Each step writes what it read to Redis once (EvidenceStore); jobs carry ids and node names.
import { UnrecoverableError, type FlowProducer, type Job } from "bullmq";
import { collectSnapshot } from "../check/collect-snapshot.js";
import { inspectHost } from "../check/inspect-host.js";
import { traceNodes } from "../check/observe-packets.js";
import { diagnoseEvidence, planAgentProbes, runAgentProbes, type AgentProbes } from "../check/run-check.js";
import { compactOverlay } from "../diagnosis/overlay-templates.js";
import {
  type CheckNotifier,
  type CheckRecord,
  type CheckReport,
  type ClusterSnapshot,
  type Finding,
  type FindingApprovals,
  type HostEvidence,
  type NodeReach,
} from "../model/index.js";
import { errorParts, isXnodeError, XnodeError, type ErrorCode } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import { Semaphore } from "../kube/semaphore.js";
import { watchApiFailures } from "../kube/watch-api-failures.js";
import type { Logger } from "../logger.js";
import type { CheckStore } from "../store/check-store.js";
import type { EvidenceStore } from "../store/evidence-store.js";
import { recordCheck } from "../store/record-check.js";
import {
  CHECK_ATTEMPTS,
  CHECK_QUEUE,
  JOB,
  diagnosePayload,
  inspectPayload,
  planPayload,
  reachPayload,
  tracePayload,
  startPayload,
  type CheckBase,
} from "./check-payloads.js";
import { NodeBatch } from "./node-batch.js";
import { chunkNodes } from "./node-chunks.js";

export interface CheckWorkerDeps {
  kubeFor(cluster: string): KubeClient;
  store: CheckStore;
  /** the running check's evidence, by reference */
  evidence: EvidenceStore;
  notifier: CheckNotifier;
  flows: FlowProducer;
  execTimeoutMs: number;
  pingTimeoutSeconds: number;
  logger: Logger;
  now?: () => Date;
  /** minimum time between two progress edits of one check's message */
  progressIntervalMs?: number;
  /** issues server-side approvals for a finished report's fixes */
  issueApprovals?: (kube: KubeClient, check: CheckRecord, report: CheckReport, snapshot: ClusterSnapshot) => Promise<Map<Finding, FindingApprovals>>;
}

const childOpts = { ignoreDependencyOnFailure: true, attempts: CHECK_ATTEMPTS, backoff: { type: "exponential", delay: 1000 } } as const;

// Failures that another attempt cannot fix: configuration and permissions.
const PERMANENT: ErrorCode[] = [
  "CONFIG_INVALID",
  "CLUSTER_UNKNOWN",
  "KUBECONFIG_INVALID",
  "KUBE_UNAUTHORIZED",
  "KUBE_FORBIDDEN",
  "KUBE_NOT_FOUND",
  "STORE_INVALID",
  "PROBE_INPUT_INVALID",
];

function isPermanent(err: unknown): boolean {
  return err instanceof UnrecoverableError || (isXnodeError(err) && PERMANENT.includes(err.code));
}

function asOperatorError(err: unknown): { message: string; hint: string } {
  return errorParts(err, "Retry with /xnode check; if it keeps failing, look at the worker's logs.");
}

/** Ends a check that cannot finish: the cluster is freed and everyone waiting is told why. */
async function failCheck(deps: CheckWorkerDeps, base: CheckBase, err: unknown, now: () => Date): Promise<void> {
  // several chunks can meet the same API failure: the first tells, the others stop
  if (!(await deps.store.firstFailure(base.checkId))) return;
  const rec = await deps.store.updateCheck(base.checkId, { status: "failed", finishedAt: now().toISOString(), error: asOperatorError(err).message });
  const subscribers = await deps.store.finish(base.cluster, base.checkId);
  if (rec) await deps.notifier.failed(rec, asOperatorError(err), subscribers);
}

/**
 * For the worker's "failed" event: a step that threw for the last time (plan,
 * diagnose, or a bug) would otherwise leave the check "running" until its slot expires.
 */
export function checkFailureHandler(deps: CheckWorkerDeps): (job: Job | undefined, err: Error) => Promise<void> {
  const now = deps.now ?? (() => new Date());
  return async (job, err) => {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1) || job.name === JOB.inspect || job.name === JOB.reach) return;
    const base = startPayload.safeParse(job.data);
    if (base.success) await failCheck(deps, base.data, err, now);
  };
}

/**
 * Host reads in flight per worker process, across its steps: a node whose
 * agent cannot fold its tables returns them whole (1.3 MB at 5,000 nodes) to
 * parse and compact, which is CPU and memory, not waiting; reach execs mostly
 * wait and are bounded by the client's exec slots alone.
 */
const HOST_READS_AT_ONCE = 32;

export function createCheckProcessor(deps: CheckWorkerDeps): (job: Job) => Promise<unknown> {
  const now = deps.now ?? (() => new Date());
  const hostReads = new Semaphore(HOST_READS_AT_ONCE);
  const fail = (base: CheckBase, err: unknown) => failCheck(deps, base, err, now);

  /**
   * false when the step should do nothing more: the check failed already (another step said why), or
   * Redis restarted without its data, so the check's record, progress and later steps are gone and
   * nothing else would ever answer: that is said in the thread (the failed message has [Re-run]).
   */
  async function stillRunning(base: CheckBase): Promise<boolean> {
    const rec = await deps.store.getCheck(base.checkId);
    if (rec) return rec.status !== "failed";
    deps.logger.warn({ checkId: base.checkId, requestId: base.requestId, cluster: base.cluster }, "check is no longer in Redis");
    if (base.thread) {
      const { channel, rootTs, requestedBy } = base.thread;
      const lost = {
        id: base.checkId,
        cluster: base.cluster,
        requestId: base.requestId,
        requestedBy,
        channel,
        rootTs,
        status: "failed",
        startedAt: now().toISOString(),
      } as const;
      await deps.notifier.failed(
        lost,
        { message: "xnode lost this check's state (Redis restarted without its data)", hint: `Press Re-run, or run /xnode check ${base.cluster} again.` },
        [],
      );
    }
    return false;
  }

  /** A probe step's end: the API server refused xnode or is unreachable, and that is the check's answer. */
  async function stopOnApiFailure(base: CheckBase, apiFailure: unknown): Promise<void> {
    if (apiFailure) await fail(base, apiFailure);
  }

  async function snapshotOf(base: CheckBase): Promise<ClusterSnapshot> {
    const snapshot = await deps.evidence.loadSnapshot(base.checkId);
    if (snapshot) return snapshot;
    throw new XnodeError("STORE_INVALID", `the snapshot of check ${base.checkId} is gone from Redis`, `Run /xnode check ${base.cluster} again.`);
  }

  /** Every node's host state in snapshot order; a node whose inspect job failed outright is reported like a silent node. */
  function hostsOf(snapshot: ClusterSnapshot, stored: Map<string, HostEvidence>): HostEvidence[] {
    return snapshot.nodes.map((n) => stored.get(n.name) ?? { node: n.name, errors: [{ probe: "inspect", message: `inspecting ${n.name} failed` }] });
  }

  async function advance(base: CheckBase, phase: "inspect" | "reach", nodes: string[]): Promise<void> {
    if (!(await stillRunning(base))) return;
    const { counted, done, total } = await deps.store.advance(base.checkId, phase, nodes);
    if (counted === 0) return;
    const last = done >= total;
    if (!last && !(await deps.store.throttle(base.checkId, deps.progressIntervalMs ?? 1000))) return;
    const rec = await deps.store.getCheck(base.checkId);
    if (rec)
      await deps.notifier
        .progress(rec, { phase, done, total })
        .catch((err: unknown) => deps.logger.warn({ err, checkId: base.checkId }, "progress update failed"));
  }

  /** A step's finished nodes: saved (with `save`) and counted in batches (node-batch.ts), counted only while the API answers. */
  function finishedNodes<T extends { node: string }>(
    base: CheckBase,
    phase: "inspect" | "reach",
    watched: { apiFailure(): unknown },
    save: (items: T[]) => Promise<void>,
  ): NodeBatch<T> {
    return new NodeBatch<T>(async (items) => {
      await save(items);
      if (!watched.apiFailure())
        await advance(
          base,
          phase,
          items.map((i) => i.node),
        );
    });
  }

  const steps: Record<string, (job: Job) => Promise<unknown>> = {
    async [JOB.start](job) {
      const data = startPayload.parse(job.data);
      try {
        const snapshot = await deps.evidence.saveSnapshot(data.checkId, await collectSnapshot(deps.kubeFor(data.cluster), now));
        await deps.store.updateCheck(data.checkId, { status: "running", phase: "inspect" });
        await deps.store.startPhase(data.checkId, "inspect", snapshot.nodes.length);
        await deps.flows.add({
          name: JOB.plan,
          queueName: CHECK_QUEUE,
          data,
          children: chunkNodes(snapshot.nodes.map((n) => n.name)).map((nodes) => ({
            name: JOB.inspect,
            queueName: CHECK_QUEUE,
            data: { ...data, nodes },
            opts: childOpts,
          })),
        });
        return { nodes: snapshot.nodes.length };
      } catch (err) {
        if (!isPermanent(err) && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw err;
        await fail(data, err);
        return { failed: true };
      }
    },

    async [JOB.inspect](job) {
      const data = inspectPayload.parse(job.data);
      if (!(await stillRunning(data))) return { stopped: true };
      const snapshot = await snapshotOf(data);
      const watched = watchApiFailures(deps.kubeFor(data.cluster));
      const byName = new Map(snapshot.nodes.map((n) => [n.name, n]));
      const nodes = data.nodes.map((name) => byName.get(name)).filter((n) => n !== undefined);
      const finished = finishedNodes<HostEvidence>(data, "inspect", watched, (hosts) => deps.evidence.saveHosts(data.checkId, hosts));
      await finished.around(() =>
        eachNode(nodes, async (node) => {
          const evidence = await hostReads.run(() => inspectHost(watched.kube, node, deps.execTimeoutMs, snapshot));
          finished.add(compactOverlay(snapshot, evidence));
        }),
      );
      await stopOnApiFailure(data, watched.apiFailure());
      return { nodes: nodes.length };
    },

    async [JOB.plan](job) {
      const data = planPayload.parse(job.data);
      if (!(await stillRunning(data))) return { stopped: true };
      const snapshot = await snapshotOf(data);
      const hosts = hostsOf(snapshot, await deps.evidence.loadHosts(data.checkId));
      const perNode = new Map<string, AgentProbes[]>();
      for (const p of planAgentProbes(snapshot, hosts)) perNode.set(p.node, [...(perNode.get(p.node) ?? []), p]);
      await deps.store.updateCheck(data.checkId, { phase: "reach" });
      await deps.store.startPhase(data.checkId, "reach", perNode.size);
      const base = { checkId: data.checkId, cluster: data.cluster, requestId: data.requestId, ...(data.thread ? { thread: data.thread } : {}) };
      await deps.flows.add({
        name: JOB.diagnose,
        queueName: CHECK_QUEUE,
        data: { ...base, probed: [...perNode.keys()] },
        children: chunkNodes([...perNode]).map((chunk) => ({
          name: JOB.reach,
          queueName: CHECK_QUEUE,
          data: { ...base, nodes: chunk.map(([node, agents]) => ({ node, agents: agents.map(({ agent, target, planned }) => ({ agent, target, planned })) })) },
          opts: childOpts,
        })),
      });
      return { agents: perNode.size };
    },

    async [JOB.reach](job) {
      const data = reachPayload.parse(job.data);
      if (!(await stillRunning(data))) return { stopped: true };
      const watched = watchApiFailures(deps.kubeFor(data.cluster));
      const finished = finishedNodes<NodeReach>(data, "reach", watched, (reaches) => deps.evidence.saveReaches(data.checkId, reaches));
      await finished.around(() =>
        eachNode(data.nodes, async ({ node, agents }) => {
          const { matrix, failures } = await runAgentProbes(
            watched.kube,
            agents.map((a) => ({ ...a, node })),
            deps,
          );
          finished.add({ node, entries: matrix, failures });
        }),
      );
      await stopOnApiFailure(data, watched.apiFailure());
      return { nodes: data.nodes.length };
    },

    async [JOB.trace](job) {
      const data = tracePayload.parse(job.data);
      const log = deps.logger.child({ requestId: data.requestId, cluster: data.cluster });
      let result: Parameters<CheckNotifier["traced"]>[1];
      try {
        result = { trace: await traceNodes(deps.kubeFor(data.cluster), data.from, data.to, { execTimeoutMs: deps.execTimeoutMs }) };
      } catch (err) {
        // One answer per request: a trace is cheap to ask again, so it is not retried.
        log.warn({ err }, "trace failed");
        result = { error: asOperatorError(err) };
      }
      await deps.notifier.traced(data, result);
      return "trace" in result ? { lostAfter: result.trace.lostAfter } : { failed: true };
    },

    async [JOB.diagnose](job) {
      const data = diagnosePayload.parse(job.data);
      if (!(await stillRunning(data))) return { stopped: true };
      const snapshot = await snapshotOf(data);
      const [stored, reach] = await Promise.all([deps.evidence.loadHosts(data.checkId), deps.evidence.loadReach(data.checkId)]);
      const rec = await deps.store.getCheck(data.checkId);
      const startedAt = rec?.startedAt ?? snapshot.takenAt;
      // a node whose reach job failed for good is named, like an agent that did not answer
      const unprobed = data.probed
        .filter((node) => !reach.has(node))
        .map((node) => ({ node, error: `probing from ${node} failed: its job ended in an error` }));
      const gathered = {
        snapshot,
        hosts: hostsOf(snapshot, stored),
        matrix: [...reach.values()].flatMap((v) => v.entries),
        reachFailures: [...[...reach.values()].flatMap((v) => v.failures), ...unprobed],
      };
      const { report } = await diagnoseEvidence(deps.kubeFor(data.cluster), gathered, {
        execTimeoutMs: deps.execTimeoutMs,
        startedAt: new Date(startedAt),
        now,
      });
      const finishedAt = now().toISOString();
      const { verdict } = await recordCheck(deps.store, data.checkId, report, { finishedAt, thread: { channel: rec?.channel, rootTs: rec?.rootTs } });
      const done = await deps.store.updateCheck(data.checkId, { status: "done", finishedAt, verdict });
      // Without approvals the report still goes out, only without Approve buttons.
      const approvals =
        done && deps.issueApprovals
          ? await deps.issueApprovals(deps.kubeFor(data.cluster), done, report, snapshot).catch((err: unknown) => {
              deps.logger.warn({ err, checkId: data.checkId, requestId: data.requestId }, "could not issue approvals");
              return undefined;
            })
          : undefined;
      const subscribers = await deps.store.finish(data.cluster, data.checkId);
      if (done) await deps.notifier.finished(done, report, subscribers, approvals);
      deps.logger.info({ checkId: data.checkId, requestId: data.requestId, cluster: data.cluster, verdict, durationMs: report.durationMs }, "check finished");
      return { verdict };
    },
  };

  return async (job: Job) => {
    const step = steps[job.name];
    if (!step) throw new UnrecoverableError(`unknown job ${job.name}`);
    const started = Date.now();
    const result = await step(job);
    // where a check's time and memory go, step by step (the bench reads these)
    const { rss, heapUsed } = process.memoryUsage();
    const data = job.data as Partial<CheckBase> & { nodes?: unknown[] };
    deps.logger.debug(
      {
        checkId: data.checkId,
        job: job.name,
        nodes: data.nodes?.length,
        startedAt: started,
        ms: Date.now() - started,
        rssMiB: mib(rss),
        heapMiB: mib(heapUsed),
      },
      "check step done",
    );
    return result;
  };
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/**
 * A chunk's nodes in parallel. The job ends only once every node's work has:
 * a node that threw fails the job (BullMQ retries it) after the others
 * finished, so nothing of this attempt still runs beside the next.
 */
async function eachNode<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  const settled = await Promise.allSettled(items.map(work));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
}

// What an operator graphs and alerts on, as Prometheus metrics. One registry
// per process (bot, worker), handed to the seams that count; nothing here is
// global, so `xnode all` and the tests run several side by side.
import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { problemsOf, type Finding } from "../model/index.js";
import { withTimeout } from "./with-timeout.js";

/** What queue depth is read from: a BullMQ Queue. */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(...types: QueueState[]): Promise<Record<string, number>>;
}

const QUEUE_STATES = ["waiting", "prioritized", "waiting-children", "delayed", "active", "failed"] as const;
type QueueState = (typeof QUEUE_STATES)[number];

const QUEUE_COUNT_TIMEOUT_MS = 1000;

export class XnodeMetrics {
  readonly registry = new Registry();
  private readonly checks = new Counter({
    name: "xnode_checks_total",
    help: "Checks finished, by verdict: healthy, problems (findings to act on), failed (no report)",
    labelNames: ["verdict"],
    registers: [this.registry],
  });
  private readonly checkDuration = new Histogram({
    name: "xnode_check_duration_seconds",
    help: "Time from a check's start to its report",
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly findings = new Counter({
    name: "xnode_findings_total",
    help: "Findings in finished checks' reports, by finding id",
    labelNames: ["id"],
    registers: [this.registry],
  });
  private readonly execs = new Counter({
    name: "xnode_execs_total",
    help: "Commands run in agent pods through the Kubernetes API, by outcome (ok: the command ran, whatever its exit code; error: the exec failed)",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  private readonly execDuration = new Histogram({
    name: "xnode_exec_duration_seconds",
    help: "Duration of one exec into an agent pod",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60],
    registers: [this.registry],
  });
  private readonly slackErrors = new Counter({
    name: "xnode_slack_api_errors_total",
    help: "Slack Web API calls that Slack refused or that failed, by Slack's error code (ratelimited: every 429, retried or not)",
    labelNames: ["code"],
    registers: [this.registry],
  });
  private readonly approvals = new Counter({
    name: "xnode_approvals_total",
    help: "Decisions on fixes, by outcome: approved (Approve or Rollback), rejected, or why a click was refused (not-approver, expired, decided, busy, …)",
    labelNames: ["outcome"],
    registers: [this.registry],
  });

  constructor(process: "bot" | "worker") {
    this.registry.setDefaultLabels({ process });
    collectDefaultMetrics({ register: this.registry });
  }

  checkFinished(report: { durationMs: number; findings: Pick<Finding, "id">[] }): void {
    this.checks.inc({ verdict: problemsOf(report.findings).length === 0 ? "healthy" : "problems" });
    this.checkDuration.observe(report.durationMs / 1000);
    for (const f of report.findings) this.findings.inc({ id: f.id });
  }

  checkFailed(): void {
    this.checks.inc({ verdict: "failed" });
  }

  execFinished(seconds: number, ok: boolean): void {
    this.execs.inc({ outcome: ok ? "ok" : "error" });
    this.execDuration.observe(seconds);
  }

  slackApiError(code: string): void {
    this.slackErrors.inc({ code });
  }

  approvalDecided(outcome: string): void {
    this.approvals.inc({ outcome });
  }

  /**
   * Queue depth is read when Prometheus scrapes, so it is never stale; when Redis does not answer
   * within a second (a worker's connection waits for Redis forever) the depths are left out.
   */
  watchQueues(queues: CountedQueue[]): void {
    new Gauge({
      name: "xnode_queue_jobs",
      help: "Jobs in each BullMQ queue by state (waiting + prioritized = not yet picked up)",
      labelNames: ["queue", "state"],
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = await Promise.all(queues.map((q) => withTimeout(q.getJobCounts(...QUEUE_STATES), QUEUE_COUNT_TIMEOUT_MS)));
        queues.forEach((q, i) => {
          for (const state of QUEUE_STATES) if (counts[i]) this.set({ queue: q.name, state }, counts[i]![state] ?? 0);
        });
      },
    });
  }
}

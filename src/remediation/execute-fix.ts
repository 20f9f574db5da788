// The one way a fix runs, for the worker and the terminal demo alike:
// fresh snapshot → drift check → dry run that must match the approved diff →
// apply → wait (rollout, pod restarts, flannel converged) or verify → rollback plan. It never re-checks connectivity (the
// caller runs runCheck) and knows nothing of Slack or Redis.
import { collectSnapshot } from "../check/collect-snapshot.js";
import type { ClusterSnapshot, RemediationPlan } from "../model/index.js";
import { errorMessage, isXnodeError, XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import { applyHostCommands } from "./apply-host-commands.js";
import { applyFlannelChange } from "./apply-flannel-change.js";
import { assertSameDiff, dryRunPlan } from "./dry-run.js";
import { describeDrift, takeFingerprint, type LiveFingerprint } from "./fingerprint.js";
import { rollbackPlanFor } from "./rollback.js";
import type { AppliedFix, FixOutcome, FixStep, FixTimings } from "./types.js";

export type { AppliedFix, FixOutcome, FixStep, FixTimings } from "./types.js";

export interface ExecuteFixOptions {
  approvedDiff: string[];
  fingerprint: LiveFingerprint;
  onStep: (step: FixStep) => void | Promise<void>;
  rolloutTimeoutMs: number;
  rolloutPollMs?: number;
  execTimeoutMs?: number;
  now?: () => Date;
}

type Prepared = { ok: true; snapshot: ClusterSnapshot; diff: string[]; note: string } | { ok: false; outcome: FixOutcome };

/** Everything before the first change; an XnodeError here means nothing was changed. */
async function prepare(kube: KubeClient, plan: RemediationPlan, opts: ExecuteFixOptions): Promise<Prepared> {
  try {
    const snapshot = await collectSnapshot(kube, opts.now);
    const drift = describeDrift(opts.fingerprint, await takeFingerprint(kube, snapshot, plan, opts));
    if (drift) return { ok: false, outcome: { status: "refused-drift", reason: drift } };
    const dry = await dryRunPlan(kube, snapshot, plan, opts);
    assertSameDiff(opts.approvedDiff, dry.diff);
    return { ok: true, snapshot, diff: dry.diff, note: dry.note };
  } catch (err) {
    if (!isXnodeError(err)) throw err;
    // a failed `test` in the dry run is the API noticing drift the fingerprint missed
    const status = err.code === "KUBE_CONFLICT" ? "refused-drift" : "aborted";
    return { ok: false, outcome: { status, reason: err.describe() } };
  }
}

export async function executeFix(kube: KubeClient, plan: RemediationPlan, opts: ExecuteFixOptions): Promise<FixOutcome> {
  const clock = () => (opts.now ?? (() => new Date()))().getTime();
  const started = clock();
  const warnings: string[] = [];
  const step = async (s: FixStep) => {
    try {
      await opts.onStep(s);
    } catch (err) {
      warnings.push(`reporting step ${s.kind} failed: ${errorMessage(err)}`);
    }
  };

  if (plan.approvable === false)
    return { status: "aborted", reason: `"${plan.summary}" is steps for a person to carry out on the nodes; xnode does not apply it` };
  const prep = await prepare(kube, plan, opts);
  if (!prep.ok) return prep.outcome;
  await step({
    kind: "diff",
    lines: prep.diff,
    dryRun: prep.note,
    text: `${prep.note}; applying ${prep.diff.length} change${prep.diff.length === 1 ? "" : "s"}`,
  });
  const applyStarted = clock();
  const timings: FixTimings = { prepareMs: applyStarted - started, applyMs: 0, totalMs: 0 };
  let applied: AppliedFix | undefined;

  const finish = async (failure?: unknown): Promise<FixOutcome> => {
    const rollback = applied && rollbackPlanFor(applied);
    let rollbackFingerprint: LiveFingerprint | undefined;
    try {
      rollbackFingerprint = rollback && (await takeFingerprint(kube, prep.snapshot, rollback, opts));
    } catch (err) {
      // without it a later rollback could not be checked for drift: report rather than pretend
      failure ??= new XnodeError(
        "FIX_FAILED",
        `the fix was applied, but the state its rollback needs could not be read: ${errorMessage(err)}`,
        "Re-run the check; roll back by hand if needed (the before state is in the thread).",
        { cause: err },
      );
    }
    timings.totalMs = clock() - started;
    if (failure === undefined && applied && rollback && rollbackFingerprint) {
      return { status: "applied", applied, rollback, rollbackFingerprint, timings, warnings };
    }
    return {
      status: "failed",
      reason: errorMessage(failure),
      ...(applied ? { applied } : {}),
      ...(rollback ? { rollback } : {}),
      ...(rollbackFingerprint ? { rollbackFingerprint } : {}),
      warnings,
    };
  };

  if (plan.patch || plan.customObject || plan.restartPods || plan.nodePatches) {
    const change = await applyFlannelChange(kube, plan, prep.snapshot, {
      timeoutMs: opts.rolloutTimeoutMs,
      pollMs: opts.rolloutPollMs,
      execTimeoutMs: opts.execTimeoutMs,
      step,
      onWritten: () => void (timings.applyMs = clock() - applyStarted),
    });
    if ("refused" in change) return change.refused;
    applied = change.applied;
    timings.rolloutMs = clock() - applyStarted - timings.applyMs;
    return finish(change.failure);
  }

  const result = await applyHostCommands(kube, prep.snapshot, plan.commands ?? [], {
    execTimeoutMs: opts.execTimeoutMs,
    onCommand: (c) =>
      step({
        kind: "command",
        node: c.node,
        argv: c.argv,
        verified: c.verified,
        durationMs: c.durationMs,
        text: `${c.node}: ${c.argv.join(" ")} → ${c.verified}`,
      }),
  });
  timings.applyMs = clock() - applyStarted;
  applied = { kind: "host-commands", plan: { kind: plan.kind, summary: plan.summary }, commands: result.applied };
  if (result.failures.length > 0)
    return finish(new XnodeError("FIX_FAILED", result.failures.map((f) => f.error.message).join("; "), result.failures[0]!.error.hint));
  return finish();
}

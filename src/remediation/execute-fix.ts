// The one way a fix runs, for the worker and the terminal demo alike:
// fresh snapshot → drift check → dry run that must match the approved diff →
// apply → wait/verify → rollback plan. It never re-checks connectivity (the
// caller runs runCheck) and knows nothing of Slack or Redis.
import { collectSnapshot } from "../check/collect-snapshot.js";
import type { ClusterSnapshot, RemediationPlan } from "../model/index.js";
import { errorMessage, isXnodeError, XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import { applyHostCommands } from "./apply-host-commands.js";
import { applyPatch } from "./apply-patch.js";
import { containerAt, flagsOf } from "./daemonset-args.js";
import { assertSameDiff, dryRunPlan } from "./dry-run.js";
import { describeDrift, takeFingerprint, type LiveFingerprint } from "./fingerprint.js";
import { rollbackPlanFor } from "./rollback.js";
import type { AppliedFix, FixOutcome, FixStep, FixTimings } from "./types.js";
import { describeProgress, waitForRollout } from "./wait-for-rollout.js";

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

  if (plan.patch) {
    let patched;
    try {
      patched = await applyPatch(kube, plan.patch);
    } catch (err) {
      // the resourceVersion test failed: refused by the API, nothing changed
      if (isXnodeError(err) && (err.code === "KUBE_CONFLICT" || err.code === "FIX_ABORTED")) {
        return { status: err.code === "KUBE_CONFLICT" ? "refused-drift" : "aborted", reason: err.describe() };
      }
      return finish(err);
    }
    timings.applyMs = clock() - applyStarted;
    await step({
      kind: "patched",
      namespace: patched.namespace,
      name: patched.name,
      resourceVersion: patched.resourceVersion,
      text: `patched DaemonSet ${patched.namespace}/${patched.name} (resourceVersion ${patched.resourceVersion}); waiting for the rollout`,
    });
    applied = { kind: "patch", plan: { kind: plan.kind, summary: plan.summary }, patch: patched, resourceVersion: patched.resourceVersion };
    const current = applied;
    let rolloutError: unknown;
    try {
      const ds = await waitForRollout(kube, patched.namespace, patched.name, {
        timeoutMs: opts.rolloutTimeoutMs,
        pollMs: opts.rolloutPollMs,
        onProgress: async (p) => {
          current.rollout = p;
          await step({ kind: "rollout", ...p, text: `rollout of ${patched.namespace}/${patched.name}: ${describeProgress(p)}` });
        },
      });
      current.resourceVersion = ds.metadata.resourceVersion ?? patched.resourceVersion;
    } catch (err) {
      rolloutError = err;
      // status updates moved the resourceVersion during the wait; while the args are still ours the rollback may target the latest one
      const ds = await kube.getDaemonSet(patched.namespace, patched.name).catch(() => undefined);
      const ours = ds && JSON.stringify(flagsOf(containerAt(ds, patched.containerIndex))) === JSON.stringify(patched.newFlags);
      if (ours && ds.metadata.resourceVersion) current.resourceVersion = ds.metadata.resourceVersion;
    }
    timings.rolloutMs = clock() - applyStarted - timings.applyMs;
    return finish(rolloutError);
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

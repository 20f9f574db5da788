// What executing a fix reports: the steps as they happen and the outcome,
// with everything needed to undo it later (a rollback plan and the state it
// expects to find).
import type { RemediationPlan } from "../model/index.js";
import type { AppliedCommand } from "./apply-host-commands.js";
import type { CustomObjectApplied } from "./apply-custom-object.js";
import type { NodePatchApplied } from "./apply-node-patches.js";
import type { PatchApplied } from "./apply-patch.js";
import type { LiveFingerprint } from "./fingerprint.js";
import type { RolloutProgress } from "./wait-for-rollout.js";

/** A change of flannel through the API: its DaemonSet patched, a custom object written, its pods replaced, or several of these. */
export interface FlannelChangeApplied {
  kind: "flannel";
  plan: Pick<RemediationPlan, "kind" | "summary" | "restartPods" | "revertedBy" | "steps">;
  patch?: PatchApplied;
  customObject?: CustomObjectApplied;
  /** Node annotations changed (remove-public-ip-overwrite), each with its value before */
  nodePatches?: NodePatchApplied[];
  rollout?: RolloutProgress;
  /** nodes whose flannel pod was replaced */
  restarted?: string[];
  /** node → public-ip before the change: what a rollback converges back to */
  previousPublicIPs: Record<string, string>;
}

export type AppliedFix = FlannelChangeApplied | { kind: "host-commands"; plan: Pick<RemediationPlan, "kind" | "summary">; commands: AppliedCommand[] };

/** Progress as it happens; `text` is one line for the operator. */
export type FixStep =
  | { kind: "diff"; lines: string[]; dryRun: string; text: string }
  | { kind: "patched"; namespace: string; name: string; resourceVersion: string; text: string }
  /** a custom object written, pods restarted, the controller waited for, convergence: one line each */
  | { kind: "progress"; text: string }
  | ({ kind: "rollout"; text: string } & RolloutProgress)
  | { kind: "command"; node: string; argv: string[]; verified: string; durationMs: number; text: string };

export interface FixTimings {
  /** snapshot + drift check + dry run */
  prepareMs: number;
  /** the patch request, or all host commands with their verification */
  applyMs: number;
  /** waiting for the DaemonSet rollout, pod restarts and flannel's convergence (flannel plans) */
  rolloutMs?: number;
  totalMs: number;
}

export type FixOutcome =
  | { status: "refused-drift"; reason: string }
  | { status: "aborted"; reason: string }
  | {
      status: "applied";
      applied: AppliedFix;
      rollback: RemediationPlan;
      rollbackFingerprint: LiveFingerprint;
      timings: FixTimings;
      /** onStep callbacks that threw: reported, never allowed to stop a fix half-way */
      warnings: string[];
    }
  | {
      /** something was (or may have been) changed and then a step failed */
      status: "failed";
      reason: string;
      applied?: AppliedFix;
      rollback?: RemediationPlan;
      rollbackFingerprint?: LiveFingerprint;
      warnings: string[];
    };

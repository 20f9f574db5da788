// What the plan would change, computed against the live cluster without
// changing it: the API server's own dry run of each API change (and a pod to
// restart on every node named), or, for host commands, proof that every
// node's agent answers and has the tool. The
// result must read exactly like the diff a person approved.
import type { ClusterSnapshot, RemediationPlan } from "../model/index.js";
import { XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import { restartDiffLine } from "../diagnosis/remediation/flannel-diff-lines.js";
import { applyCustomObject } from "./apply-custom-object.js";
import { applyNodePatches, nodePatchDiffLines } from "./apply-node-patches.js";
import { containerAt, containerDiffLines, jsonPatchOps, patchedContainer } from "./daemonset-args.js";
import { actionsByNode } from "./fingerprint.js";
import { sysctlPath, type HostAction } from "./host-actions.js";
import { nftListChainArgv } from "./nft-actions.js";
import { nodeShell } from "./node-exec.js";
import { podsByNode } from "./restart-pods.js";

export interface DryRunResult {
  diff: string[];
  /** how the diff was obtained, for the operator */
  note: string;
}

function noTarget(plan: RemediationPlan): XnodeError {
  return new XnodeError("FIX_ABORTED", `plan "${plan.summary}" has nothing xnode can apply`, "Re-run the check for a fresh plan.");
}

async function dryRunPatch(kube: KubeClient, patch: NonNullable<RemediationPlan["patch"]>): Promise<string[]> {
  const { index } = patchedContainer(patch);
  const current = await kube.getDaemonSet(patch.namespace, patch.name);
  if (!current) {
    throw new XnodeError(
      "FIX_ABORTED",
      `DaemonSet ${patch.namespace}/${patch.name} does not exist any more`,
      "Re-run the check: flannel may have been reinstalled under another name.",
    );
  }
  const result = await kube.patchDaemonSet(patch.namespace, patch.name, jsonPatchOps(patch), { dryRun: true });
  return containerDiffLines(containerAt(current, index), containerAt(result, index));
}

/** The API changes of a flannel plan (DaemonSet patch, custom object), then its pod restarts, with the server's dry run for each change. */
async function dryRunFlannel(kube: KubeClient, plan: RemediationPlan): Promise<DryRunResult> {
  const diff: string[] = [];
  const notes: string[] = [];
  if (plan.patch) {
    diff.push(...(await dryRunPatch(kube, plan.patch)));
    notes.push("server-side dry run ok");
  }
  if (plan.customObject) {
    diff.push(...(await applyCustomObject(kube, plan.customObject, { dryRun: true })).diff);
    notes.push(`server-side dry run of the ${plan.customObject.create ? "create" : "patch"} ok`);
  }
  if (plan.nodePatches) {
    diff.push(...nodePatchDiffLines(await applyNodePatches(kube, plan.nodePatches, { dryRun: true })));
    notes.push("server-side dry run of the Node patch ok");
  }
  if (plan.restartPods) {
    await podsByNode(kube, plan.restartPods);
    diff.push(restartDiffLine(plan.restartPods.daemonSet, plan.restartPods.nodes));
    notes.push(`a pod of ${plan.restartPods.daemonSet} found on each node`);
  }
  return { diff, note: notes.join("; ") };
}

/** Read-only questions whose "yes" the command needs: the device, the chain, the sysctl exist. */
function preflight(action: HostAction): { argv: string[]; what: string }[] {
  switch (action.kind) {
    case "route":
      return [
        { argv: ["ip", "-j", "route", "show", action.dst], what: "the route table" },
        ...(action.dev ? [{ argv: ["ip", "link", "show", "dev", action.dev], what: `device ${action.dev}` }] : []),
      ];
    case "iptables":
      return [{ argv: ["iptables", "-t", action.table, "-S", action.chain], what: `chain ${action.chain} of table ${action.table}` }];
    case "sysctl":
      return [{ argv: ["cat", sysctlPath(action.key)], what: `sysctl ${action.key}` }];
    case "addr":
      return [{ argv: ["ip", "link", "show", "dev", action.dev], what: `device ${action.dev}` }];
    case "nft":
      return [{ argv: nftListChainArgv(action), what: `nftables chain ${action.family} ${action.table} ${action.chain}` }];
  }
}

async function dryRunCommands(kube: KubeClient, snapshot: ClusterSnapshot, plan: RemediationPlan, timeoutMs?: number): Promise<DryRunResult> {
  const byNode = actionsByNode(plan); // refuses commands xnode cannot verify or undo
  await Promise.all(
    [...byNode].map(async ([node, items]) => {
      const shell = nodeShell(kube, snapshot, node, timeoutMs);
      for (const { argv, action } of items) {
        for (const check of preflight(action)) {
          const r = await shell.exec(check.argv);
          if (r.exitCode === 0) continue;
          const why = r.stderr.trim().split("\n")[0] || `exit code ${r.exitCode}`;
          throw new XnodeError(
            "FIX_ABORTED",
            `\`${argv.join(" ")}\` cannot work on ${node}: reading ${check.what} failed (${why})`,
            "Nothing was changed. Re-run the check: the node may differ from when the plan was made.",
          );
        }
      }
    }),
  );
  const nodes = [...byNode.keys()];
  return {
    diff: (plan.commands ?? []).map((c) => `${c.node}: ${c.argv.join(" ")}`),
    note: `host agent${nodes.length > 1 ? "s" : ""} on ${nodes.join(", ")} ready, targets present`,
  };
}

export async function dryRunPlan(
  kube: KubeClient,
  snapshot: ClusterSnapshot,
  plan: RemediationPlan,
  opts: { execTimeoutMs?: number } = {},
): Promise<DryRunResult> {
  if (plan.approvable === false) throw noTarget(plan);
  if (plan.patch || plan.customObject || plan.restartPods || plan.nodePatches) return dryRunFlannel(kube, plan);
  if (plan.commands?.length) return dryRunCommands(kube, snapshot, plan, opts.execTimeoutMs);
  throw noTarget(plan);
}

/** The approved diff and the dry run's must be identical, line for line. */
export function assertSameDiff(approved: readonly string[], dryRun: readonly string[]): void {
  const n = Math.max(approved.length, dryRun.length);
  for (let i = 0; i < n; i++) {
    if (approved[i] === dryRun[i]) continue;
    const show = (l: string | undefined) => (l === undefined ? "(no line)" : `"${l}"`);
    throw new XnodeError(
      "FIX_ABORTED",
      `the dry run would change something other than what was approved: line ${i + 1} approved ${show(approved[i])}, dry run ${show(dryRun[i])}`,
      "The cluster or the plan changed after approval; nothing was applied. Re-run the check and approve the new plan.",
    );
  }
}

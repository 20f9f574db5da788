// flannel's flags as xnode shows them: `command` after the binary, then
// `args` (the same reading as the snapshot), and the one diff-line format a
// person approves: "args: [a, b] → [a, b, c]".
import type { RemediationPlan } from "../model/index.js";
import { XnodeError } from "../errors.js";
import type { JsonPatchOp, KubeContainer, KubeDaemonSet } from "../kube/types.js";

const ARGS_PATH = /^\/spec\/template\/spec\/containers\/(\d+)\/args$/;

export function flagsOf(container: KubeContainer | undefined): string[] {
  return [...(container?.command ?? []).slice(1), ...(container?.args ?? [])];
}

export function containerAt(ds: KubeDaemonSet, index: number): KubeContainer | undefined {
  return ds.spec?.template?.spec?.containers[index];
}

export function argsDiffLine(before: readonly string[], after: readonly string[]): string {
  return `args: [${before.join(", ")}] → [${after.join(", ")}]`;
}

/** The container whose args the patch edits (from the replace/add/remove op's path). */
export function patchedContainerIndex(patch: NonNullable<RemediationPlan["patch"]>): number {
  for (const op of patch.ops) {
    const m = ARGS_PATH.exec(op.path);
    if (m && op.op !== "test") return Number(m[1]);
  }
  throw new XnodeError(
    "FIX_ABORTED",
    `the patch for DaemonSet ${patch.namespace}/${patch.name} does not edit a container's args`,
    "xnode only applies patches of flannel's container args; re-run the check for a fresh plan.",
  );
}

/** The plan's ops typed for the API; an op the API would not understand stops the fix before it is sent. */
export function jsonPatchOps(patch: NonNullable<RemediationPlan["patch"]>): JsonPatchOp[] {
  return patch.ops.map((op) => {
    if (op.op === "remove") return { op: "remove", path: op.path };
    if (op.op === "add" || op.op === "replace" || op.op === "test") return { op: op.op, path: op.path, value: op.value };
    throw new XnodeError(
      "FIX_ABORTED",
      `the patch for ${patch.namespace}/${patch.name} has an unsupported op "${op.op}"`,
      "Re-run the check for a fresh plan.",
    );
  });
}

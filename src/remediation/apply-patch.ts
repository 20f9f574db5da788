// Applies a DaemonSet JSON patch guarded by a `test` on resourceVersion, so a
// change made by anyone since the plan was read makes the API refuse it
// instead of xnode overwriting that change.
import type { RemediationPlan } from "../model/index.js";
import { XnodeError, isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { JsonPatchOp } from "../kube/types.js";
import { containerAt, flagsOf, jsonPatchOps, patchedContainerIndex } from "./daemonset-args.js";

export interface PatchApplied {
  namespace: string;
  name: string;
  containerIndex: number;
  /** the container's `args` field before, as stored (undefined: it had none) */
  previousArgs?: string[];
  /** the container's `command` before, when the patch changed it (flags moved out of it) */
  previousCommand?: string[];
  /** flags as shown in diffs, before and after */
  previousFlags: string[];
  newFlags: string[];
  /** of the patched object, as the API returned it */
  resourceVersion: string;
  generation?: number;
}

export async function applyPatch(kube: KubeClient, patch: NonNullable<RemediationPlan["patch"]>): Promise<PatchApplied> {
  const { namespace, name } = patch;
  const index = patchedContainerIndex(patch);
  const current = await kube.getDaemonSet(namespace, name);
  if (!current?.metadata.resourceVersion) {
    throw new XnodeError("FIX_ABORTED", `DaemonSet ${namespace}/${name} does not exist any more`, "Re-run the check; nothing was changed.");
  }
  let ops: JsonPatchOp[] = jsonPatchOps(patch);
  // Without a precondition in the plan, the read above becomes one: the args
  // recorded for rollback are then exactly the ones this patch replaced.
  if (!ops.some((o) => o.op === "test" && o.path === "/metadata/resourceVersion")) {
    ops = [{ op: "test", path: "/metadata/resourceVersion", value: current.metadata.resourceVersion }, ...ops];
  }
  const expected = ops.find((o) => o.op === "test" && o.path === "/metadata/resourceVersion");
  let result;
  try {
    result = await kube.patchDaemonSet(namespace, name, ops);
  } catch (err) {
    if (isXnodeError(err) && err.code === "KUBE_CONFLICT") {
      const was = expected && "value" in expected ? String(expected.value) : undefined;
      const moved =
        was !== undefined && was !== current.metadata.resourceVersion
          ? `resourceVersion ${was} → ${current.metadata.resourceVersion}`
          : "between xnode's read and its patch";
      throw new XnodeError(
        "KUBE_CONFLICT",
        `DaemonSet ${namespace}/${name} changed after the plan was made (${moved}): the API refused the patch and nothing was changed`,
        "Re-run the check to see the DaemonSet as it is now and approve a fresh plan.",
        { cause: err },
      );
    }
    throw err;
  }
  const before = containerAt(current, index);
  return {
    namespace,
    name,
    containerIndex: index,
    ...(before?.args ? { previousArgs: [...before.args] } : {}),
    ...(before?.command && JSON.stringify(before.command) !== JSON.stringify(containerAt(result, index)?.command)
      ? { previousCommand: [...before.command] }
      : {}),
    previousFlags: flagsOf(before),
    newFlags: flagsOf(containerAt(result, index)),
    resourceVersion: result.metadata.resourceVersion ?? "",
    ...(result.metadata.generation !== undefined ? { generation: result.metadata.generation } : {}),
  };
}

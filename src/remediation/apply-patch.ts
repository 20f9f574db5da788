// Applies a DaemonSet JSON patch whose `test` ops hold the fields the plan
// read (flannel's container name, its args or env): a change made by anyone
// since then makes the API refuse it instead of xnode overwriting that change.
// Status writes move the resourceVersion all the time, so it is never the guard.
import type { RemediationPlan } from "../model/index.js";
import { XnodeError, isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import { containerAt, containerDiffLines, jsonPatchOps, patchedContainer, type ContainerField } from "./daemonset-args.js";

export interface FieldChange {
  field: ContainerField;
  /** as stored before the patch (undefined: the container had no such field) */
  before?: unknown;
  after?: unknown;
}

export interface PatchApplied {
  namespace: string;
  name: string;
  containerIndex: number;
  /** each container field the patch changed, whole, before and after */
  changes: FieldChange[];
  /** the approved diff lines of the change, and those that undo it */
  diff: string[];
  undoDiff: string[];
  /** of the patched object, as the API returned it */
  resourceVersion: string;
  generation?: number;
}

export async function applyPatch(kube: KubeClient, patch: NonNullable<RemediationPlan["patch"]>): Promise<PatchApplied> {
  const { namespace, name } = patch;
  const { index, fields } = patchedContainer(patch);
  const current = await kube.getDaemonSet(namespace, name);
  if (!current) {
    throw new XnodeError("FIX_ABORTED", `DaemonSet ${namespace}/${name} does not exist any more`, "Re-run the check; nothing was changed.");
  }
  let result;
  try {
    result = await kube.patchDaemonSet(namespace, name, jsonPatchOps(patch));
  } catch (err) {
    if (isXnodeError(err) && err.code === "KUBE_CONFLICT") {
      throw new XnodeError(
        "KUBE_CONFLICT",
        `flannel's container in DaemonSet ${namespace}/${name} changed after the plan was made (a precondition of the patch failed): the API refused the patch and nothing was changed`,
        "Re-run the check to see the DaemonSet as it is now and approve a fresh plan.",
        { cause: err },
      );
    }
    throw err;
  }
  const before = containerAt(current, index);
  const after = containerAt(result, index);
  const changes = fields.map((field) => ({
    field,
    ...(before?.[field] !== undefined ? { before: structuredClone(before[field]) } : {}),
    ...(after?.[field] !== undefined ? { after: structuredClone(after[field]) } : {}),
  }));
  return {
    namespace,
    name,
    containerIndex: index,
    changes,
    diff: containerDiffLines(before, after),
    undoDiff: containerDiffLines(after, before),
    resourceVersion: result.metadata.resourceVersion ?? "",
    ...(result.metadata.generation !== undefined ? { generation: result.metadata.generation } : {}),
  };
}

/** Whether the DaemonSet's container still holds what the patch wrote (false: something put other values back). */
export function stillApplied(ds: Parameters<typeof containerAt>[0], applied: PatchApplied): boolean {
  const c = containerAt(ds, applied.containerIndex);
  return applied.changes.every((ch) => JSON.stringify(c?.[ch.field]) === JSON.stringify(ch.after));
}

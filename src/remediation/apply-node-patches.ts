// Node JSON patches of flannel's annotations (remove-public-ip-overwrite):
// the server's dry run gives the diff a person approved, the real patch keeps
// each touched annotation's value before, so a rollback can put it back.
import { XnodeError, isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { JsonPatchOp, KubeNode } from "../kube/types.js";
import type { RemediationPlan } from "../model/index.js";
import { annotationDiffLine, annotationPath } from "../diagnosis/remediation/node-annotations.js";
import { jsonPatchOps } from "./daemonset-args.js";

export type NodePatch = NonNullable<RemediationPlan["nodePatches"]>[number];

/** One Node's patched annotations: key → value before and after (undefined: not set). */
export interface NodePatchApplied {
  node: string;
  annotations: { key: string; before?: string; after?: string }[];
}

const ANNOTATIONS = "/metadata/annotations/";

/** The annotation keys a patch touches, from its paths (RFC 6901: "~1" is "/", "~0" is "~"). */
export function annotationKeys(patch: NodePatch): string[] {
  const keys = patch.ops.flatMap((o) => (o.path.startsWith(ANNOTATIONS) ? [o.path.slice(ANNOTATIONS.length).replace(/~1/g, "/").replace(/~0/g, "~")] : []));
  return [...new Set(keys)];
}

function onlyAnnotations(patch: NodePatch): void {
  const other = patch.ops.find((o) => !o.path.startsWith(ANNOTATIONS));
  if (other) {
    throw new XnodeError(
      "FIX_ABORTED",
      `the plan would change ${other.path} of Node ${patch.node}; xnode only edits a Node's annotations`,
      "Nothing was changed. Re-run the check for a fresh plan.",
    );
  }
}

function changesOf(patch: NodePatch, before: KubeNode | undefined, after: KubeNode): NodePatchApplied {
  return {
    node: patch.node,
    annotations: annotationKeys(patch).map((key) => {
      const was = before?.metadata.annotations?.[key];
      const now = after.metadata.annotations?.[key];
      return { key, ...(was !== undefined ? { before: was } : {}), ...(now !== undefined ? { after: now } : {}) };
    }),
  };
}

export function nodePatchDiffLines(applied: readonly NodePatchApplied[]): string[] {
  return applied.flatMap((a) => a.annotations.map((c) => annotationDiffLine(a.node, c.key, c.before, c.after)));
}

/** The lines of the change that undoes `applied`: each annotation from its value now back to its value before. */
export function nodePatchUndoDiffLines(applied: readonly NodePatchApplied[]): string[] {
  return applied.flatMap((a) => a.annotations.filter((c) => c.before !== c.after).map((c) => annotationDiffLine(a.node, c.key, c.after, c.before)));
}

/** The patch that puts each annotation back: re-added with its old value, or removed when it had none. */
export function undoNodePatch(applied: NodePatchApplied): NodePatch {
  return {
    node: applied.node,
    ops: applied.annotations.flatMap((c): JsonPatchOp[] => {
      const path = annotationPath(c.key);
      if (c.before === c.after) return [];
      if (c.before === undefined)
        return [
          { op: "test", path, value: c.after },
          { op: "remove", path },
        ];
      // "add" replaces a value that is there and creates one that is not
      return [{ op: "add", path, value: c.before }];
    }),
  };
}

/** Every patch in order, as a server-side dry run (`dryRun`) or for real; a failed `test` refuses it with KUBE_CONFLICT, naming the Node. */
export async function applyNodePatches(kube: KubeClient, patches: readonly NodePatch[], opts: { dryRun?: boolean } = {}): Promise<NodePatchApplied[]> {
  const current = await kube.listNodes();
  const applied: NodePatchApplied[] = [];
  for (const patch of patches) {
    onlyAnnotations(patch);
    const before = current.find((n) => n.metadata.name === patch.node);
    if (!before) throw new XnodeError("FIX_ABORTED", `Node ${patch.node} does not exist any more`, "Re-run the check; nothing was changed by this step.");
    try {
      const ops = jsonPatchOps({ namespace: "Node", name: patch.node, ops: patch.ops });
      applied.push(changesOf(patch, before, await kube.patchNode(patch.node, ops, opts)));
    } catch (err) {
      if (!isXnodeError(err) || err.code !== "KUBE_CONFLICT") throw err;
      throw new XnodeError(
        "KUBE_CONFLICT",
        `Node ${patch.node}'s annotation changed after the plan was made (the patch's test failed): the API refused it${applied.length > 0 ? "" : " and nothing was changed"}`,
        "Re-run the check to see the Node as it is now and approve a fresh plan.",
        { cause: err },
      );
    }
  }
  return applied;
}

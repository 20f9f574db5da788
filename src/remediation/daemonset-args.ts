// flannel's container as xnode changes it: flags (`command` after the binary,
// then `args`, the same reading as the snapshot) and env, the diff lines a
// person approves for it, and the container fields a patch touches.
import type { RemediationPlan } from "../model/index.js";
import { argsDiffLine, envDiffLine, type EnvValue } from "../diagnosis/remediation/flannel-diff-lines.js";
import { XnodeError } from "../errors.js";
import type { JsonPatchOp, KubeContainer, KubeDaemonSet } from "../kube/types.js";

const CONTAINER_FIELD = /^\/spec\/template\/spec\/containers\/(\d+)\/(args|command|env)(\/|$)/;

/** The container fields a flannel patch may change; rollbacks restore them whole. */
export type ContainerField = "args" | "command" | "env";

export function flagsOf(container: KubeContainer | undefined): string[] {
  return [...(container?.command ?? []).slice(1), ...(container?.args ?? [])];
}

export function containerAt(ds: KubeDaemonSet, index: number): KubeContainer | undefined {
  return ds.spec?.template?.spec?.containers[index];
}

function envValues(container: KubeContainer | undefined): Map<string, EnvValue> {
  return new Map(
    (container?.env ?? []).map((e) => [
      e.name,
      e.valueFrom?.configMapKeyRef
        ? { configMapKey: { name: e.valueFrom.configMapKeyRef.name, key: e.valueFrom.configMapKeyRef.key } }
        : { value: e.value ?? "" },
    ]),
  );
}

/** What changed between two versions of flannel's container, as the planner words it: the flags, then each env var by name. */
export function containerDiffLines(before: KubeContainer | undefined, after: KubeContainer | undefined): string[] {
  const lines: string[] = [];
  const was = flagsOf(before);
  const now = flagsOf(after);
  if (JSON.stringify(was) !== JSON.stringify(now)) lines.push(argsDiffLine(was, now));
  const envBefore = envValues(before);
  const envAfter = envValues(after);
  const names = [...new Set([...envBefore.keys(), ...envAfter.keys()])].sort();
  for (const name of names) {
    if (JSON.stringify(envBefore.get(name)) !== JSON.stringify(envAfter.get(name))) lines.push(envDiffLine(name, envBefore.get(name), envAfter.get(name)));
  }
  return lines;
}

/** The container the patch edits and which of its fields, from the ops' paths. */
export function patchedContainer(patch: NonNullable<RemediationPlan["patch"]>): { index: number; fields: ContainerField[] } {
  let index: number | undefined;
  const fields = new Set<ContainerField>();
  for (const op of patch.ops) {
    const m = CONTAINER_FIELD.exec(op.path);
    if (!m || op.op === "test") continue;
    if (index !== undefined && Number(m[1]) !== index) index = NaN;
    else index = Number(m[1]);
    fields.add(m[2] as ContainerField);
  }
  if (index === undefined || Number.isNaN(index)) {
    throw new XnodeError(
      "FIX_ABORTED",
      `the patch for DaemonSet ${patch.namespace}/${patch.name} does not edit the args, command or env of one container`,
      "xnode only applies patches of flannel's container; re-run the check for a fresh plan.",
    );
  }
  return { index, fields: [...fields].sort() };
}

/** JSON patch ops typed for the API; an op the API would not understand stops the fix before it is sent. */
export function jsonPatchOps(patch: { namespace: string; name: string; ops: { op: string; path: string; value?: unknown }[] }): JsonPatchOp[] {
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

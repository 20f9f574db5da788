// Creates or JSON-patches the custom object a plan names (RKE2's
// HelmChartConfig rke2-canal), for real or as the API server's dry run, and
// says what changed in the words the plan used; then waits until the
// controller behind it has acted (the ConfigMap key the chart renders).
import type { RemediationPlan } from "../model/index.js";
import { helmValuesDiffLines } from "../diagnosis/remediation/flannel-diff-lines.js";
import { XnodeError, isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { CustomObjectRef, KubeCustomObject } from "../kube/types.js";
import { jsonPatchOps } from "./daemonset-args.js";

type CustomObjectChange = NonNullable<RemediationPlan["customObject"]>;

export interface CustomObjectApplied {
  ref: CustomObjectRef;
  created: boolean;
  /** spec.valuesContent before (undefined: none, or no object) and after */
  before?: string;
  after?: string;
  diff: string[];
  /** the ConfigMap key as it was before the change: what the rollback waits for */
  undoReconciledWhen?: NonNullable<CustomObjectChange["reconciledWhen"]>;
}

export const refOf = (c: CustomObjectChange): CustomObjectRef => ({
  group: c.group,
  version: c.version,
  plural: c.plural,
  namespace: c.namespace,
  name: c.name,
});

const valuesOf = (o: KubeCustomObject | undefined) => (typeof o?.spec?.valuesContent === "string" ? o.spec.valuesContent : undefined);

export const describeObject = (ref: CustomObjectRef) => `${ref.plural === "helmchartconfigs" ? "HelmChartConfig" : ref.plural} ${ref.namespace}/${ref.name}`;

export async function applyCustomObject(kube: KubeClient, change: CustomObjectChange, opts: { dryRun?: boolean } = {}): Promise<CustomObjectApplied> {
  const ref = refOf(change);
  const what = describeObject(ref);
  if (ref.plural !== "helmchartconfigs") {
    throw new XnodeError("FIX_ABORTED", `xnode does not change ${what}`, "Only RKE2's HelmChartConfig is changed this way; re-run the check for a fresh plan.");
  }
  const current = await kube.getCustomObject(ref);
  let result: KubeCustomObject;
  try {
    if (change.create) {
      if (current) throw new XnodeError("KUBE_CONFLICT", `${what} was created after the plan was made`, "Re-run the check for a plan that merges into it.");
      result = await kube.createCustomObject(ref, change.create as unknown as KubeCustomObject, opts);
    } else {
      if (!current) throw new XnodeError("FIX_ABORTED", `${what} does not exist any more`, "Re-run the check; nothing was changed.");
      result = await kube.patchCustomObject(ref, jsonPatchOps({ namespace: ref.namespace, name: ref.name, ops: change.ops ?? [] }), opts);
    }
  } catch (err) {
    if (isXnodeError(err) && err.code === "KUBE_CONFLICT" && !change.create) {
      throw new XnodeError(
        "KUBE_CONFLICT",
        `${what}'s valuesContent changed after the plan was made (a precondition of the patch failed): the API refused the patch and nothing was changed`,
        "Re-run the check and approve a fresh plan.",
        { cause: err },
      );
    }
    throw err;
  }
  const want = change.reconciledWhen;
  // the chart renders an unset value as ""
  const undoReconciledWhen = want && { ...want, value: (await kube.getConfigMap(want.namespace, want.name))?.data?.[want.key] ?? "" };
  const before = valuesOf(current);
  const after = valuesOf(result);
  return {
    ref,
    created: !current,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
    diff: helmValuesDiffLines(what, !current, before, after),
    ...(undoReconciledWhen ? { undoReconciledWhen } : {}),
  };
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once the ConfigMap key holds the value; CONVERGENCE_TIMEOUT says what it held last. */
export async function waitForReconcile(kube: KubeClient, change: CustomObjectChange, opts: WaitOptions): Promise<void> {
  const want = change.reconciledWhen;
  if (!want) return;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = now() + opts.timeoutMs;
  for (;;) {
    const value = (await kube.getConfigMap(want.namespace, want.name))?.data?.[want.key];
    if (value === want.value) return;
    if (now() >= deadline) {
      throw new XnodeError(
        "CONVERGENCE_TIMEOUT",
        `the controller did not apply ${describeObject(refOf(change))} within ${Math.round(opts.timeoutMs / 1000)} s: ConfigMap ${want.namespace}/${want.name} key ${want.key} is ${value === undefined ? "unset" : JSON.stringify(value)}, expected ${JSON.stringify(want.value)}`,
        `Look at RKE2's helm controller: kubectl -n ${want.namespace} get helmcharts,jobs and the logs of the helm-install job for the chart. The rollback plan restores the previous values.`,
      );
    }
    await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - now())));
  }
}

// The API side of a flannel fix, in order: the DaemonSet patch or the custom
// object (then its controller's reconcile), the rollout, pods replaced node by
// node where the change alone replaces none, and flannel's convergence on
// every node, read through the host agents. Every wait is bounded. On failure
// `applied` still says what was changed, so the rollback can undo it.
import { isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { ClusterSnapshot, RemediationPlan } from "../model/index.js";
import { applyCustomObject, describeObject, waitForReconcile } from "./apply-custom-object.js";
import { applyNodePatches, nodePatchDiffLines } from "./apply-node-patches.js";
import { applyPatch, stillApplied } from "./apply-patch.js";
import { restartPodsNodeByNode } from "./restart-pods.js";
import type { FixOutcome, FixStep, FlannelChangeApplied } from "./types.js";
import { waitForConvergence } from "./wait-for-convergence.js";
import { describeProgress, waitForRollout } from "./wait-for-rollout.js";

export interface FlannelChangeOptions {
  /** each wait: the rollout, each node's pod, the controller, convergence */
  timeoutMs: number;
  pollMs?: number;
  execTimeoutMs?: number;
  step: (s: FixStep) => Promise<void>;
  /** once the API writes are done, before any wait */
  onWritten?: () => void;
}

export type FlannelChangeResult =
  { refused: Extract<FixOutcome, { status: "refused-drift" | "aborted" }> } | { applied: FlannelChangeApplied; failure?: unknown };

/** What a manager's revert looks like to the operator: "reverted by argocd (label …)". */
export function revertedByText(plan: Pick<RemediationPlan, "revertedBy">, what: string): string {
  const by = plan.revertedBy ? `${plan.revertedBy.manager} (${plan.revertedBy.evidence})` : "something outside xnode";
  return `${what} no longer holds the change: reverted by ${by}`;
}

/** A reason when the change is no longer in place; undefined while it is. */
export async function revertOf(kube: KubeClient, applied: FlannelChangeApplied): Promise<string | undefined> {
  const p = applied.patch;
  if (p) {
    const ds = await kube.getDaemonSet(p.namespace, p.name);
    if (ds && !stillApplied(ds, p)) return revertedByText(applied.plan, `DaemonSet ${p.namespace}/${p.name}`);
  }
  const o = applied.customObject;
  if (o) {
    const now = await kube.getCustomObject(o.ref);
    if (now && now.spec?.valuesContent !== o.after) return revertedByText(applied.plan, describeObject(o.ref));
  }
  return undefined;
}

function refusal(err: unknown): FlannelChangeResult | undefined {
  // a failed `test` or a vanished object: refused by the API, nothing changed
  if (isXnodeError(err) && (err.code === "KUBE_CONFLICT" || err.code === "FIX_ABORTED")) {
    return { refused: { status: err.code === "KUBE_CONFLICT" ? "refused-drift" : "aborted", reason: err.describe() } };
  }
  return undefined;
}

export async function applyFlannelChange(
  kube: KubeClient,
  plan: RemediationPlan,
  snapshot: ClusterSnapshot,
  opts: FlannelChangeOptions,
): Promise<FlannelChangeResult> {
  const applied: FlannelChangeApplied = {
    kind: "flannel",
    plan: {
      kind: plan.kind,
      summary: plan.summary,
      ...(plan.restartPods ? { restartPods: plan.restartPods } : {}),
      ...(plan.revertedBy ? { revertedBy: plan.revertedBy } : {}),
      ...(plan.steps ? { steps: plan.steps } : {}),
    },
    previousPublicIPs: Object.fromEntries(snapshot.nodes.flatMap((n) => (n.flannel.publicIP ? [[n.name, n.flannel.publicIP]] : []))),
  };
  const progress = (text: string) => opts.step({ kind: "progress", text });
  try {
    if (plan.nodePatches) applied.nodePatches = await applyNodePatches(kube, plan.nodePatches);
    if (plan.patch) applied.patch = await applyPatch(kube, plan.patch);
    if (plan.customObject) applied.customObject = await applyCustomObject(kube, plan.customObject);
  } catch (err) {
    // only the first change can be refused without anything changed
    if (!applied.patch && !applied.nodePatches?.length) return refusal(err) ?? { applied, failure: err };
    return { applied, failure: err };
  }
  opts.onWritten?.();
  const wait = { timeoutMs: opts.timeoutMs, pollMs: opts.pollMs };
  const ds = plan.patch ?? (plan.restartPods && { namespace: plan.restartPods.namespace, name: plan.restartPods.daemonSet });
  try {
    if (applied.nodePatches) await progress(`patched ${nodePatchDiffLines(applied.nodePatches).join("; ")}`);
    // k3s: flannel re-reads the Node only when k3s restarts, which is a step for a person: nothing to wait for here
    if (plan.nodePatches && !plan.patch && !plan.customObject && !plan.restartPods) {
      const steps = plan.steps?.length ? `now carry out the steps (${plan.steps.join(" ")})` : "flannel reads the Node again only when it restarts";
      await progress(`${steps}; the re-check shows the change once flannel has restarted`);
      return { applied };
    }
    if (applied.patch) {
      const p = applied.patch;
      await opts.step({
        kind: "patched",
        namespace: p.namespace,
        name: p.name,
        resourceVersion: p.resourceVersion,
        text: `patched DaemonSet ${p.namespace}/${p.name} (generation ${p.generation ?? "?"}); ${plan.restartPods ? "its pods are replaced next, one node at a time" : "waiting for the rollout"}`,
      });
    }
    if (plan.customObject && applied.customObject) {
      const o = applied.customObject;
      await progress(`${o.created ? "created" : "patched"} ${describeObject(o.ref)}; waiting for its controller to apply it`);
      await waitForReconcile(kube, plan.customObject, wait);
      const want = plan.customObject.reconciledWhen;
      if (want) await progress(`applied: ConfigMap ${want.namespace}/${want.name} key ${want.key} is ${JSON.stringify(want.value)}`);
    }
    // a RollingUpdate patch rolls out by itself; a controller may roll its DaemonSet out too
    const rolls = plan.customObject
      ? ds !== undefined && ((await kube.getDaemonSet(ds.namespace, ds.name))?.metadata.generation ?? 0) > generationIn(snapshot, ds)
      : plan.patch !== undefined && !plan.restartPods;
    if (ds && rolls) {
      await waitForRollout(kube, ds.namespace, ds.name, {
        ...wait,
        onProgress: async (p) => {
          applied.rollout = p;
          await opts.step({ kind: "rollout", ...p, text: `rollout of ${ds.namespace}/${ds.name}: ${describeProgress(p)}` });
        },
      });
    }
    if (plan.restartPods) {
      applied.restarted = await restartPodsNodeByNode(kube, plan.restartPods, {
        ...wait,
        ...(plan.expectedPublicIPs ? { expected: plan.expectedPublicIPs } : {}),
        // after a controller's own rollout a node may be done already
        skipConverged: plan.customObject !== undefined,
        execTimeoutMs: opts.execTimeoutMs,
        onStep: progress,
      });
    }
    await progress("waiting until flannel has programmed every node (annotations, neighbour and FDB entries)");
    await waitForConvergence(kube, {
      ...wait,
      ...(plan.expectedPublicIPs ? { expected: plan.expectedPublicIPs } : {}),
      execTimeoutMs: opts.execTimeoutMs,
      reverted: () => revertOf(kube, applied),
      onProgress: (pending) => progress(`not converged yet: ${pending.slice(0, 2).join("; ")}${pending.length > 2 ? ` (+${pending.length - 2})` : ""}`),
    });
    await progress("flannel has converged on every node");
  } catch (err) {
    return { applied, failure: err };
  }
  return { applied };
}

function generationIn(snapshot: ClusterSnapshot, ds: { namespace: string; name: string }): number {
  const known = snapshot.flannel.daemonSet;
  return known && known.namespace === ds.namespace && known.name === ds.name ? (known.generation ?? 0) : 0;
}

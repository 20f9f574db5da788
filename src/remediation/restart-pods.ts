// Replaces flannel's pods one node at a time: delete the pod on a node, wait
// until its replacement is Ready AND flannel has programmed that node, then
// the next. Needed where a spec change replaces no pod by itself (OnDelete)
// or where flannel reads its setting only at start (env from a ConfigMap).
import { XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { KubePod } from "../kube/types.js";
import type { RemediationPlan } from "../model/index.js";
import { convergenceProblems } from "../diagnosis/flannel-convergence.js";
import { observeFlannel } from "./wait-for-convergence.js";

export interface RestartOptions {
  expected?: Readonly<Record<string, string>>;
  /** leave a node alone when it is programmed with the expected setting already (a controller restarted it) */
  skipConverged?: boolean;
  /** per node: delete to Ready and programmed */
  timeoutMs: number;
  pollMs?: number;
  execTimeoutMs?: number;
  onStep?: (text: string) => void | Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const isReady = (p: KubePod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** The DaemonSet's pod selector as a label selector string. */
async function podSelector(kube: KubeClient, namespace: string, name: string): Promise<string> {
  const ds = await kube.getDaemonSet(namespace, name);
  const labels = ds?.spec?.selector?.matchLabels;
  if (!ds || !labels || Object.keys(labels).length === 0) {
    throw new XnodeError("FIX_FAILED", `DaemonSet ${namespace}/${name} is gone or has no selector: its pods cannot be found`, "Re-run the check.");
  }
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** The pods of the DaemonSet on each node; FIX_ABORTED names a node that has none. */
export async function podsByNode(kube: KubeClient, restart: NonNullable<RemediationPlan["restartPods"]>): Promise<Map<string, KubePod[]>> {
  const labelSelector = await podSelector(kube, restart.namespace, restart.daemonSet);
  const pods = await kube.listPods(restart.namespace, { labelSelector });
  const out = new Map(restart.nodes.map((n) => [n, pods.filter((p) => p.spec?.nodeName === n && !p.metadata.deletionTimestamp)]));
  const missing = restart.nodes.filter((n) => out.get(n)!.length === 0);
  if (missing.length > 0) {
    throw new XnodeError(
      "FIX_ABORTED",
      `DaemonSet ${restart.namespace}/${restart.daemonSet} has no pod on ${missing.join(", ")}`,
      "Nothing was changed. Re-run the check: the nodes may differ from when the plan was made.",
    );
  }
  return out;
}

export async function restartPodsNodeByNode(kube: KubeClient, restart: NonNullable<RemediationPlan["restartPods"]>, opts: RestartOptions): Promise<string[]> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const execTimeoutMs = opts.execTimeoutMs ?? 10_000;
  const labelSelector = await podSelector(kube, restart.namespace, restart.daemonSet);
  const restarted: string[] = [];
  for (const node of restart.nodes) {
    const programmed = async () => convergenceProblems(await observeFlannel(kube, [node], execTimeoutMs), opts.expected, [node]);
    if (opts.skipConverged && opts.expected?.[node] !== undefined && (await programmed()).length === 0) {
      await opts.onStep?.(`${node}: flannel already runs with the new setting there; its pod is left alone`);
      continue;
    }
    const old = await kube.listPods(restart.namespace, { labelSelector, fieldSelector: `spec.nodeName=${node}` });
    for (const p of old) await kube.deletePod(restart.namespace, p.metadata.name);
    await opts.onStep?.(`${node}: deleted ${old.map((p) => p.metadata.name).join(", ") || "(no pod)"}; waiting for the new pod to be Ready and programmed`);
    const deadline = now() + opts.timeoutMs;
    for (;;) {
      const pods = await kube.listPods(restart.namespace, { labelSelector, fieldSelector: `spec.nodeName=${node}` });
      const fresh = pods.find((p) => !old.some((o) => o.metadata.name === p.metadata.name) && !p.metadata.deletionTimestamp);
      const pending = fresh && isReady(fresh) ? await programmed() : undefined;
      if (fresh && pending?.length === 0) {
        restarted.push(node);
        await opts.onStep?.(`${node}: ${fresh.metadata.name} Ready and programmed`);
        break;
      }
      if (now() >= deadline) {
        const state = !fresh
          ? "no new pod yet"
          : !isReady(fresh)
            ? `${fresh.metadata.name} not Ready`
            : `${fresh.metadata.name} Ready but ${pending!.slice(0, 2).join("; ")}`;
        throw new XnodeError(
          "ROLLOUT_TIMEOUT",
          `flannel on ${node} was not back within ${Math.round(opts.timeoutMs / 1000)} s after its pod was deleted: ${state}`,
          `Check the pod (kubectl -n ${restart.namespace} get pods -o wide --field-selector spec.nodeName=${node}) and its logs; the remaining nodes were not touched. The rollback plan restores the previous setting.`,
        );
      }
      await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - now())));
    }
  }
  return restarted;
}

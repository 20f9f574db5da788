// Waits until flannel has converged after a change, read through the host
// agents: every node advertises the expected address, sits on it, and holds
// neighbour and FDB entries that match every peer's annotations. Pods being
// Ready proves nothing (old manifests have no readinessProbe). A change that
// something reverted while waiting (a GitOps sync) stops the wait at once.
import { collectSnapshot } from "../check/collect-snapshot.js";
import { inspectHost } from "../check/inspect-host.js";
import { convergenceProblems } from "../diagnosis/flannel-convergence.js";
import { XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { CheckEvidence } from "../model/index.js";

export interface ConvergenceOptions {
  /** node → public-ip flannel must advertise */
  expected?: Readonly<Record<string, string>>;
  /** only these nodes (default: every flannel node) */
  nodes?: readonly string[];
  timeoutMs: number;
  pollMs?: number;
  execTimeoutMs?: number;
  /** a reason when the change was undone meanwhile (then waiting is pointless) */
  reverted?: () => Promise<string | undefined>;
  onProgress?: (pending: string[]) => void | Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The Kubernetes objects and the host evidence of `nodes` (default: all), without any connectivity probe. */
export async function observeFlannel(kube: KubeClient, nodes: readonly string[] | undefined, execTimeoutMs: number): Promise<CheckEvidence> {
  const snapshot = await collectSnapshot(kube);
  const hosts = await Promise.all(snapshot.nodes.filter((n) => !nodes || nodes.includes(n.name)).map((n) => inspectHost(kube, n, execTimeoutMs)));
  return { snapshot, hosts, matrix: [], unreachableNodes: [] };
}

export async function waitForConvergence(kube: KubeClient, opts: ConvergenceOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = now() + opts.timeoutMs;
  let last: string[] = [];
  for (;;) {
    const reverted = await opts.reverted?.();
    if (reverted)
      throw new XnodeError("FIX_REVERTED", reverted, "Commit the change where the manager takes it from (shown with the plan), then re-run the check.");
    const pending = convergenceProblems(await observeFlannel(kube, opts.nodes, opts.execTimeoutMs ?? 10_000), opts.expected, opts.nodes);
    if (pending.length === 0) return;
    if (JSON.stringify(pending) !== JSON.stringify(last)) await opts.onProgress?.(pending);
    last = pending;
    if (now() >= deadline) {
      const shown = pending.slice(0, 3).join("; ") + (pending.length > 3 ? `; and ${pending.length - 3} more` : "");
      throw new XnodeError(
        "CONVERGENCE_TIMEOUT",
        `flannel had not finished programming the nodes ${Math.round(opts.timeoutMs / 1000)} s after the change: ${shown}`,
        "Look at the flannel pods' logs on those nodes (a crash loop, an interface not found). The rollback plan restores the previous setting.",
      );
    }
    await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - now())));
  }
}

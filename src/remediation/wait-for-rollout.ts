// Polls a DaemonSet until the controller has rolled the current generation
// out to every scheduled node and all of those pods are ready.
import type { KubeDaemonSet } from "../kube/types.js";
import { XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";

export interface RolloutProgress {
  generation: number;
  observedGeneration: number;
  desired: number;
  updated: number;
  ready: number;
}

export interface RolloutOptions {
  timeoutMs: number;
  pollMs?: number;
  onProgress?: (p: RolloutProgress) => void | Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function rolloutProgress(ds: KubeDaemonSet): RolloutProgress {
  const s = ds.status ?? {};
  return {
    generation: ds.metadata.generation ?? 0,
    observedGeneration: s.observedGeneration ?? 0,
    desired: s.desiredNumberScheduled ?? 0,
    updated: s.updatedNumberScheduled ?? 0,
    ready: s.numberReady ?? 0,
  };
}

export function rolloutDone(p: RolloutProgress): boolean {
  return p.observedGeneration >= p.generation && p.updated === p.desired && p.ready === p.desired;
}

export function describeProgress(p: RolloutProgress): string {
  return `generation ${p.generation} (observed ${p.observedGeneration}), ${p.updated}/${p.desired} updated, ${p.ready}/${p.desired} ready`;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with the DaemonSet as last read once rolled out; ROLLOUT_TIMEOUT says what it saw last. */
export async function waitForRollout(kube: KubeClient, namespace: string, name: string, opts: RolloutOptions): Promise<KubeDaemonSet> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = now() + opts.timeoutMs;
  let last: RolloutProgress | undefined;
  for (;;) {
    const ds = await kube.getDaemonSet(namespace, name);
    if (!ds)
      throw new XnodeError(
        "FIX_FAILED",
        `DaemonSet ${namespace}/${name} disappeared during the rollout`,
        "Check who deleted it (kubectl get events); flannel is not running anywhere now.",
      );
    const p = rolloutProgress(ds);
    if (!last || JSON.stringify(p) !== JSON.stringify(last)) await opts.onProgress?.(p);
    last = p;
    if (rolloutDone(p)) return ds;
    if (now() >= deadline) {
      throw new XnodeError(
        "ROLLOUT_TIMEOUT",
        `the rollout of DaemonSet ${namespace}/${name} did not finish within ${Math.round(opts.timeoutMs / 1000)} s; last seen: ${describeProgress(p)}`,
        `Check the flannel pods (kubectl -n ${namespace} get pods -o wide): a node lacking the chosen interface crash-loops. The rollback plan restores the previous args.`,
      );
    }
    await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - now())));
  }
}

// What owns the flannel installation besides the DaemonSet controller: a GitOps
// or Helm manager (managedBy helm|argocd with revertAfterSeconds > 0: a direct
// change to what it applied is put back after that long, like a sync), and on
// RKE2 the helm controller, which also re-renders the rke2-canal chart when the
// HelmChartConfig rke2-canal (helm.cattle.io/v1, kube-system) is created,
// changed or deleted, and applies the result (ConfigMap, then DaemonSet).
// The desired state is what the manager applied last: the DaemonSet's spec and
// the ConfigMap's data.
import { isDeepStrictEqual } from "node:util";
import type { ObjectStore, StoreEvent } from "./apiserver/store.js";
import { installationObjects } from "./install/installation.js";
import { baseCanalValues, canalValuesWith, RKE2_CANAL } from "./install/rke2-canal.js";
import type { Scenario } from "./scenario.js";

/** How long the helm controller's job takes from a HelmChartConfig change to the applied chart. */
export const HELM_UPGRADE_DELAY_MS = 300;

interface Owned {
  kind: "DaemonSet" | "ConfigMap";
  namespace: string;
  name: string;
  field: "spec" | "data";
}

const keyOf = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ""}/${o.name}`;

export class ManagerSync {
  private readonly owned: Owned[];
  private readonly desired = new Map<string, unknown>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private upgradeTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly scenario: Scenario,
    private readonly store: ObjectStore,
    private readonly upgradeDelayMs = HELM_UPGRADE_DELAY_MS,
  ) {
    const install = installationObjects(scenario);
    this.owned = [
      ...(install.daemonSet ? [install.daemonSet] : []).map((o) => ({
        kind: "DaemonSet" as const,
        namespace: o.metadata.namespace!,
        name: o.metadata.name,
        field: "spec" as const,
      })),
      ...install.configMaps.map((o) => ({ kind: "ConfigMap" as const, namespace: o.metadata.namespace!, name: o.metadata.name, field: "data" as const })),
    ];
    // Helm applies a chart's ConfigMaps before its DaemonSet, so new pods read the new values.
    this.owned.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "ConfigMap" ? -1 : 1));
  }

  private get rke2(): boolean {
    return this.scenario.flannel.distribution === "rke2-canal";
  }

  private get revertMs(): number {
    const managed = this.rke2 || this.scenario.flannel.managedBy !== "none";
    return managed ? this.scenario.flannel.revertAfterSeconds * 1000 : 0;
  }

  start(): void {
    if (!this.rke2 && this.revertMs === 0) return;
    for (const o of this.owned) this.desired.set(keyOf(o), structuredClone(this.store.get(o.kind, o.namespace, o.name)?.[o.field]));
    this.store.on("change", this.onChange);
  }

  stop(): void {
    this.stopped = true;
    this.store.off("change", this.onChange);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    clearTimeout(this.upgradeTimer);
  }

  /** Resolves when the reverts and upgrades running now are applied (scheduled ones are not waited for). */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(step: () => void): void {
    this.chain = this.chain.then(() => (this.stopped ? undefined : step())).catch(() => undefined);
  }

  private readonly onChange = (ev: StoreEvent): void => {
    const meta = ev.object.metadata;
    if (this.rke2 && ev.kind === "HelmChartConfig" && meta.namespace === RKE2_CANAL.namespace && meta.name === RKE2_CANAL.name) {
      clearTimeout(this.upgradeTimer);
      this.upgradeTimer = setTimeout(() => this.enqueue(() => this.upgrade()), this.upgradeDelayMs);
      return;
    }
    const owned = this.owned.find((o) => o.kind === ev.kind && o.namespace === meta.namespace && o.name === meta.name);
    if (!owned || ev.type !== "MODIFIED" || this.revertMs === 0) return;
    const key = keyOf(owned);
    if (isDeepStrictEqual(ev.object[owned.field], this.desired.get(key)) || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.enqueue(() => this.apply(owned));
      }, this.revertMs),
    );
  };

  /** Puts the manager's version of one object back (nothing happens when it already matches). */
  private apply(o: Owned): void {
    const want = this.desired.get(keyOf(o));
    this.store.update(o.kind, o.namespace, o.name, (draft) => {
      draft[o.field] = structuredClone(want);
    });
  }

  /**
   * The helm controller's job for rke2-canal: values = the chart's (the
   * scenario's) merged with the HelmChartConfig's valuesContent; a
   * valuesContent Helm cannot use fails the job and leaves everything as it was.
   */
  private upgrade(): void {
    const hcc = this.store.get("HelmChartConfig", RKE2_CANAL.namespace, RKE2_CANAL.name);
    const valuesContent = (hcc?.spec as { valuesContent?: unknown } | undefined)?.valuesContent;
    const result = canalValuesWith(baseCanalValues(this.scenario), typeof valuesContent === "string" ? valuesContent : undefined);
    if (!result.ok) return;
    const rendered = installationObjects(this.scenario, result.values);
    const objects = [...rendered.configMaps, ...(rendered.daemonSet ? [rendered.daemonSet] : [])];
    for (const o of this.owned) {
      const obj = objects.find((x) => x.kind === o.kind && x.metadata.name === o.name);
      if (!obj) continue;
      this.desired.set(keyOf(o), structuredClone(obj[o.field]));
      this.apply(o);
    }
  }
}

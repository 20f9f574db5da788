// The control-plane half of the flannel imitation: keeps the node annotations,
// the flannel pods and the DaemonSet status the way flanneld and the DaemonSet
// controller would, and drives the data-plane half (dataplane/flannel.ts).
// A change of the DaemonSet's pod template is rolled out node by node, like a
// RollingUpdate with maxUnavailable 1.
import type { ObjectStore, StoreEvent } from "./apiserver/store.js";
import { FLANNEL_CONTAINER, flannelLabels, podObject, podSuffix } from "./cluster-objects.js";
import { chooseInterface, programPeers, setupFlannelNode, type FlannelPeer } from "./dataplane/flannel.js";
import type { LabTopology } from "./dataplane/topology.js";
import type { Scenario } from "./scenario.js";

const ANN = "flannel.alpha.coreos.com/";

interface NodeFlannelState {
  iface?: string;
  publicIP?: string;
  vtepMac?: string;
  /** flanneld's last fatal error on this node (crash loop) */
  error?: string;
  restarts: number;
}

// Objects from the emulated API are free-form JSON; nested reads stay short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

export class FlannelController {
  private readonly state = new Map<string, NodeFlannelState>();
  private rolling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly scenario: Scenario,
    private readonly topo: LabTopology,
    private readonly store: ObjectStore,
    private readonly stepDelayMs = 150,
  ) {}

  /** First programming of every node; returns when the data plane is ready. */
  async start(): Promise<void> {
    const args = this.currentArgs();
    await Promise.all(this.scenario.nodes.map((n) => this.startNode(n.name, args)));
    await this.programAllPeers();
    for (const n of this.scenario.nodes) this.createFlannelPod(n.name);
    this.updateStatus(this.generation(), this.scenario.nodes.length);
    this.store.on("change", this.onChange);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.store.off("change", this.onChange);
    return this.rolling;
  }

  /** Resolves when every rollout queued so far has finished. */
  idle(): Promise<void> {
    return this.rolling;
  }

  private readonly onChange = (ev: StoreEvent): void => {
    if (ev.kind === "DaemonSet" && ev.type === "MODIFIED" && this.isFlannelDs(ev.object)) {
      const gen = ev.object.metadata.generation as number;
      if (gen !== (ev.old?.metadata?.generation as number | undefined)) {
        this.rolling = this.rolling.then(() => this.rollout(gen)).catch(() => undefined);
      }
    }
  };

  private isFlannelDs(o: Obj): boolean {
    return o.metadata.namespace === this.scenario.flannel.namespace && o.metadata.name === this.scenario.flannel.daemonSet;
  }

  private ds(): Obj {
    const ds = this.store.get("DaemonSet", this.scenario.flannel.namespace, this.scenario.flannel.daemonSet);
    if (!ds) throw new Error("flannel DaemonSet missing from the lab store");
    return ds;
  }

  private generation(): number {
    return this.ds().metadata.generation as number;
  }

  private currentArgs(): string[] {
    const containers = (this.ds().spec?.template?.spec?.containers ?? []) as Obj[];
    const c = containers.find((x) => x.name === FLANNEL_CONTAINER) ?? containers[0];
    // flanneld sees command's flags first, then args (the first --iface that exists wins)
    return [...((c?.command as string[]) ?? []).slice(1), ...((c?.args as string[]) ?? [])];
  }

  private async startNode(node: string, args: string[]): Promise<void> {
    const spec = this.scenario.nodes.find((n) => n.name === node)!;
    const prev = this.state.get(node);
    const annotations = (this.store.get("Node", undefined, node)?.metadata.annotations ?? {}) as Record<string, string>;
    const choice = chooseInterface(spec, args, { publicIP: annotations[`${ANN}node-public-ip`] });
    if (!choice.ok) {
      // flanneld exits before touching the kernel; the old device stays.
      this.state.set(node, { ...prev, error: choice.error, restarts: (prev?.restarts ?? 0) + 1 });
      return;
    }
    if (!spec.podCIDR) {
      this.state.set(node, { iface: choice.iface, error: `node "${node}" pod cidr not assigned`, restarts: (prev?.restarts ?? 0) + 1 });
      return;
    }
    const { vtepMac } = await setupFlannelNode(this.topo, this.scenario, node, choice, prev?.vtepMac);
    this.state.set(node, { iface: choice.iface, publicIP: choice.address, vtepMac, restarts: 0 });
    this.store.update("Node", undefined, node, (n: Obj) => {
      const ann = (n.metadata.annotations ??= {});
      const publicIP = ann[`${ANN}public-ip-overwrite`] ?? choice.address;
      Object.assign(ann, {
        [`${ANN}backend-type`]: this.scenario.flannel.backend,
        [`${ANN}backend-data`]: this.scenario.flannel.backend === "vxlan" ? JSON.stringify({ VNI: this.scenario.flannel.vni, VtepMAC: vtepMac }) : "null",
        [`${ANN}kube-subnet-manager`]: "true",
        [`${ANN}public-ip`]: publicIP,
      });
    });
  }

  /** Every node's current lease, as the faults need them. */
  leases(): FlannelPeer[] {
    return this.peersOf(undefined);
  }

  /** Peers as flanneld sees them: from the Node annotations, not from our own memory. */
  private peersOf(node: string | undefined): FlannelPeer[] {
    return (this.store.list("Node") as Obj[])
      .filter((n) => n.metadata.name !== node && n.spec?.podCIDR && n.metadata.annotations?.[`${ANN}public-ip`])
      .map((n) => {
        const ann = n.metadata.annotations as Record<string, string>;
        const data = JSON.parse(ann[`${ANN}backend-data`] ?? "null") as { VtepMAC?: string } | null;
        return {
          node: n.metadata.name as string,
          podCIDR: n.spec.podCIDR as string,
          publicIP: ann[`${ANN}public-ip`]!,
          vtepMac: data?.VtepMAC ?? "",
          backendType: ann[`${ANN}backend-type`] === "host-gw" ? "host-gw" : "vxlan",
        };
      });
  }

  private async programAllPeers(): Promise<void> {
    await Promise.all(
      [...this.state.entries()]
        .filter(([, st]) => st.iface && st.vtepMac !== undefined && !st.error)
        .map(([node, st]) => programPeers(this.topo, this.scenario, node, st.iface!, this.peersOf(node))),
    );
  }

  private podReady(node: string): boolean {
    const st = this.state.get(node);
    return !!st && !st.error && !this.scenario.flannel.notReadyOn.includes(node);
  }

  private createFlannelPod(node: string): void {
    const t = this.topo.nodes[node]!;
    const ready = this.podReady(node);
    const pod = podObject(
      {
        name: `${this.scenario.flannel.daemonSet}-${podSuffix()}`,
        namespace: this.scenario.flannel.namespace,
        node,
        labels: { ...flannelLabels(), "pod-template-generation": String(this.generation()) },
        podIP: t.internalIP,
        hostNetwork: true,
        container: FLANNEL_CONTAINER,
      },
      t.internalIP,
      ready,
    );
    const restarts = this.state.get(node)?.restarts ?? 0;
    if (!ready) (pod.status as Obj).containerStatuses[0].restartCount = restarts;
    this.store.create(pod);
  }

  private flannelPods(node: string): Obj[] {
    return (this.store.list("Pod", this.scenario.flannel.namespace) as Obj[]).filter((p) => p.spec?.nodeName === node && p.metadata.labels?.app === "flannel");
  }

  private updateStatus(observedGeneration: number, updated: number): void {
    const desired = this.scenario.nodes.length;
    const ready = this.scenario.nodes.filter((n) => this.podReady(n.name)).length;
    this.store.update("DaemonSet", this.scenario.flannel.namespace, this.scenario.flannel.daemonSet, (ds: Obj) => {
      ds.status = {
        currentNumberScheduled: desired,
        desiredNumberScheduled: desired,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        numberUnavailable: desired - ready,
        updatedNumberScheduled: updated,
        observedGeneration,
      };
    });
  }

  private async rollout(generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation()) return; // a newer change supersedes this one
    const args = this.currentArgs();
    this.updateStatus(generation, 0);
    let updated = 0;
    for (const { name } of this.scenario.nodes) {
      if (this.stopped) return;
      for (const p of this.flannelPods(name)) this.store.delete("Pod", p.metadata.namespace, p.metadata.name);
      await delay(this.stepDelayMs);
      await this.startNode(name, args);
      await this.programAllPeers();
      this.createFlannelPod(name);
      updated += 1;
      this.updateStatus(generation, updated);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

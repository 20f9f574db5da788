// The control-plane half of the flannel imitation: keeps the node annotations,
// the flannel pods and the DaemonSet status the way flanneld, the kubelet and
// the DaemonSet controller would, and drives the data-plane half
// (dataplane/flannel.ts). Each flannel pod runs with its own spec: a change of
// the DaemonSet's pod template is rolled out node by node (RollingUpdate,
// maxUnavailable 1) or, under OnDelete, waits until each pod is deleted; a
// deleted pod is replaced from the current template, as the DaemonSet
// controller does. On k3s there are no pods: flannel's flags come from each
// node's k3s.io/node-args annotation.
import { createHash } from "node:crypto";
import type { K8sObject, ObjectStore, StoreEvent } from "./apiserver/store.js";
import { FLANNEL_CONTAINER, podObject, podReadiness, podSuffix } from "./cluster-objects.js";
import { chooseInterface, programPeers, setupFlannelNode, type FlannelPeer } from "./dataplane/flannel.js";
import type { LabTopology } from "./dataplane/topology.js";
import { flannelArgsFor } from "./install/installation.js";
import { K3S_NODE_ARGS } from "./install/k3s.js";
import { ManagerSync } from "./manager-sync.js";
import type { Scenario } from "./scenario.js";

const ANN = "flannel.alpha.coreos.com/";

/** How long a pod that is Ready at start (readyBeforeProgrammed) takes to program its node. */
export const PROGRAM_DELAY_MS = 2000;

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

export interface FlannelControllerOptions {
  /** pause between deleting a node's pod and starting its replacement */
  stepDelayMs?: number;
  /** readyBeforeProgrammed: from pod start to programmed */
  programDelayMs?: number;
}

export class FlannelController {
  private readonly state = new Map<string, NodeFlannelState>();
  /** rollouts and pod replacements, one at a time */
  private rolling: Promise<void> = Promise.resolve();
  /** programming that runs after a pod turned Ready (readyBeforeProgrammed) */
  private readonly pending = new Set<Promise<void>>();
  /** pods this controller deleted itself (a rollout), so their DELETED events start nothing */
  private readonly ownDeletes = new Set<string>();
  private readonly manager: ManagerSync;
  private readonly stepDelayMs: number;
  private readonly programDelayMs: number;
  private stopped = false;

  constructor(
    private readonly scenario: Scenario,
    private readonly topo: LabTopology,
    private readonly store: ObjectStore,
    opts: FlannelControllerOptions = {},
  ) {
    this.stepDelayMs = opts.stepDelayMs ?? 150;
    this.programDelayMs = opts.programDelayMs ?? PROGRAM_DELAY_MS;
    this.manager = new ManagerSync(scenario, store);
  }

  private get k3s(): boolean {
    return this.scenario.flannel.distribution === "k3s";
  }

  /** First programming of every node; returns when the data plane is ready (readyBeforeProgrammed or not). */
  async start(): Promise<void> {
    if (this.k3s) {
      await Promise.all(this.scenario.nodes.map((n) => this.startNode(n.name, this.argsOf(n.name, undefined))));
      await this.programAllPeers();
    } else {
      const template = this.ds().spec.template;
      await Promise.all(this.scenario.nodes.map((n) => this.startNode(n.name, this.argsOf(n.name, template.spec))));
      await this.programAllPeers();
      for (const n of this.scenario.nodes) this.createFlannelPod(n.name, this.podReady(n.name));
      this.updateStatus();
    }
    this.store.on("change", this.onChange);
    this.manager.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.store.off("change", this.onChange);
    this.manager.stop();
    await this.idle();
  }

  /** Resolves when every rollout, pod replacement, manager revert and delayed programming queued so far has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const before = this.rolling;
      const manager = this.manager.idle();
      await Promise.all([before, ...this.pending, manager]);
      if (before === this.rolling && this.pending.size === 0 && manager === this.manager.idle()) return;
    }
  }

  private readonly onChange = (ev: StoreEvent): void => {
    if (this.stopped || this.k3s) return;
    if (ev.kind === "DaemonSet" && ev.type === "MODIFIED" && this.isFlannelDs(ev.object)) {
      const gen = ev.object.metadata.generation as number;
      if (gen !== (ev.old?.metadata?.generation as number | undefined)) this.enqueue(() => this.rollout(gen));
    } else if (ev.kind === "Pod" && ev.type === "DELETED" && this.isFlannelPod(ev.object)) {
      const key = `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
      if (this.ownDeletes.delete(key)) return;
      const node = ev.object.spec?.nodeName as string | undefined;
      if (node && this.topo.nodes[node]) this.enqueue(() => this.replacePod(node));
    }
  };

  private enqueue(step: () => Promise<void>): void {
    this.rolling = this.rolling.then(step).catch(() => undefined);
  }

  private isFlannelDs(o: Obj): boolean {
    return o.metadata.namespace === this.scenario.flannel.namespace && o.metadata.name === this.scenario.flannel.daemonSet;
  }

  private isFlannelPod(o: Obj): boolean {
    if (o.metadata.namespace !== this.scenario.flannel.namespace) return false;
    const selector = (this.store.get("DaemonSet", this.scenario.flannel.namespace, this.scenario.flannel.daemonSet)?.spec?.selector?.matchLabels ??
      {}) as Record<string, string>;
    const labels = (o.metadata.labels ?? {}) as Record<string, string>;
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
  }

  private ds(): Obj {
    const ds = this.store.get("DaemonSet", this.scenario.flannel.namespace, this.scenario.flannel.daemonSet);
    if (!ds) throw new Error("flannel DaemonSet missing from the lab store");
    return ds;
  }

  private generation(): number {
    return this.ds().metadata.generation as number;
  }

  private readonly configMapKey = (name: string, key: string): string | undefined =>
    (this.store.get("ConfigMap", this.scenario.flannel.namespace, name)?.data as Record<string, string> | undefined)?.[key];

  /** flanneld's argv on `node`: from the pod spec it runs with, or (k3s) the node's k3s.io/node-args. */
  private argsOf(node: string, podSpec: Obj | undefined): string[] {
    const annotations = (this.store.get("Node", undefined, node)?.metadata.annotations ?? {}) as Record<string, string>;
    return flannelArgsFor(this.scenario, { podSpec, k3sNodeArgs: annotations[K3S_NODE_ARGS], configMapKey: this.configMapKey });
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
    // flannel >= v0.24.1 reuses the VtepMAC it published; older ones keep a device's MAC only while the device survives.
    const reuseMac = this.scenario.flannel.persistentMac ? prev?.vtepMac : undefined;
    const { vtepMac } = await setupFlannelNode(this.topo, this.scenario, node, choice, reuseMac, args);
    this.state.set(node, { iface: choice.iface, publicIP: choice.address, vtepMac, restarts: 0 });
    this.store.update("Node", undefined, node, (n: Obj) => {
      const ann = (n.metadata.annotations ??= {});
      const publicIP = ann[`${ANN}public-ip-overwrite`] || choice.address;
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

  /** A pod of the DaemonSet's current template on `node`, as the DaemonSet controller creates it. */
  private createFlannelPod(node: string, ready: boolean): K8sObject {
    const t = this.topo.nodes[node]!;
    const ds = this.ds();
    const template = ds.spec.template as Obj;
    const pod = podObject(
      {
        name: `${this.scenario.flannel.daemonSet}-${podSuffix()}`,
        namespace: this.scenario.flannel.namespace,
        node,
        labels: {
          ...(template.metadata?.labels ?? {}),
          "controller-revision-hash": createHash("sha256").update(JSON.stringify(template)).digest("hex").slice(0, 10),
          "pod-template-generation": String(ds.metadata.generation),
        },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "DaemonSet", name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true },
        ],
        podIP: t.internalIP,
        hostNetwork: true,
        container: FLANNEL_CONTAINER,
        containers: template.spec.containers,
        ...(template.spec.initContainers ? { initContainers: template.spec.initContainers } : {}),
      },
      t.internalIP,
      ready,
    );
    this.setRestarts(pod as Obj, node, ready);
    return this.store.create(pod);
  }

  private setRestarts(pod: Obj, node: string, ready: boolean): void {
    if (ready) return;
    const status = (pod.status.containerStatuses as Obj[]).find((c) => c.name === FLANNEL_CONTAINER);
    if (status) status.restartCount = this.state.get(node)?.restarts ?? 0;
  }

  /** After delayed programming: the pod flips to crash-looping when flanneld failed. */
  private markPod(name: string, node: string): void {
    const ready = this.podReady(node);
    if (ready) return;
    try {
      this.store.update("Pod", this.scenario.flannel.namespace, name, (p: Obj) => {
        Object.assign(p.status, podReadiness(p.spec.containers, FLANNEL_CONTAINER));
        this.setRestarts(p, node, false);
      });
    } catch {
      // the pod is gone already (deleted meanwhile): its replacement reports for itself
    }
  }

  private flannelPods(node: string): Obj[] {
    return (this.store.list("Pod", this.scenario.flannel.namespace) as Obj[]).filter((p) => p.spec?.nodeName === node && this.isFlannelPod(p));
  }

  /** The DaemonSet controller's status, counted from the pods that exist now. */
  private updateStatus(): void {
    const ds = this.ds();
    const generation = ds.metadata.generation as number;
    const pods = this.scenario.nodes.flatMap((n) => this.flannelPods(n.name).slice(0, 1));
    const isReady = (p: Obj) => (p.status?.conditions as Obj[] | undefined)?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    const desired = this.scenario.nodes.length;
    const ready = pods.filter(isReady).length;
    this.store.update("DaemonSet", this.scenario.flannel.namespace, this.scenario.flannel.daemonSet, (d: Obj) => {
      d.status = {
        currentNumberScheduled: pods.length,
        desiredNumberScheduled: desired,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        numberUnavailable: desired - ready,
        updatedNumberScheduled: pods.filter((p) => p.metadata.labels?.["pod-template-generation"] === String(generation)).length,
        observedGeneration: generation,
      };
    });
  }

  /**
   * Starts a pod of the current template on `node` and flanneld in it: Ready
   * once the node is programmed, or (readyBeforeProgrammed) Ready at once and
   * programming `programDelayMs` later, in the background.
   */
  private async startPod(node: string): Promise<void> {
    const podSpec = this.ds().spec.template.spec;
    if (!this.scenario.flannel.readyBeforeProgrammed) {
      await this.startNode(node, this.argsOf(node, podSpec));
      await this.programAllPeers();
      this.createFlannelPod(node, this.podReady(node));
      this.updateStatus();
      return;
    }
    const pod = this.createFlannelPod(node, !this.scenario.flannel.notReadyOn.includes(node));
    this.updateStatus();
    const programming = (async () => {
      await delay(this.programDelayMs);
      if (this.stopped) return;
      await this.startNode(node, this.argsOf(node, podSpec));
      await this.programAllPeers();
      this.markPod(pod.metadata.name, node);
      this.updateStatus();
    })().catch(() => undefined);
    this.pending.add(programming);
    void programming.finally(() => this.pending.delete(programming));
  }

  /** A flannel pod was deleted through the API: the DaemonSet controller creates its replacement. */
  private async replacePod(node: string): Promise<void> {
    if (this.stopped) return;
    this.updateStatus();
    if (this.flannelPods(node).length > 0) return; // a replacement exists already
    await delay(this.stepDelayMs);
    if (this.stopped) return;
    await this.startPod(node);
  }

  private async rollout(generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation()) return; // a newer change supersedes this one
    // OnDelete: the new template waits for each pod to be deleted; only the status notices the change.
    if (this.ds().spec.updateStrategy?.type === "OnDelete") {
      this.updateStatus();
      return;
    }
    this.updateStatus();
    for (const { name } of this.scenario.nodes) {
      if (this.stopped || generation !== this.generation()) return;
      for (const p of this.flannelPods(name)) {
        this.ownDeletes.add(`${p.metadata.namespace}/${p.metadata.name}`);
        this.store.delete("Pod", p.metadata.namespace, p.metadata.name);
      }
      this.updateStatus();
      await delay(this.stepDelayMs);
      await this.startPod(name);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// One running lab cluster: data plane, emulated API server and flannel
// imitation, started together and torn down together. Tests use this class
// in-process; `npm run lab -- up` runs it in a background daemon.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCertificates } from "./apiserver/certs.js";
import { renderKubeconfig } from "./apiserver/kubeconfig.js";
import { startApiServer } from "./apiserver/server.js";
import { ObjectStore } from "./apiserver/store.js";
import { initialObjects } from "./cluster-objects.js";
import { agentBinaryDir } from "./dataplane/agent-binary.js";
import { applyFault } from "./dataplane/faults.js";
import { buildTopology, destroyTopology, type LabTopology } from "./dataplane/topology.js";
import { FlannelController } from "./flannel-controller.js";
import type { Scenario } from "./scenario.js";
import { startSyntheticCluster } from "./synthetic/start.js";

/**
 * Every lab's namespaces start with this; `down --all` removes what matches.
 * Overridable so a test of `down --all` cannot touch labs other tests run.
 */
export const LAB_PREFIX = process.env.XNODE_LAB_PREFIX || "xl-";

export interface LabHandle {
  readonly name: string;
  readonly prefix: string;
  readonly scenario: Scenario;
  readonly topology: LabTopology;
  readonly store: ObjectStore;
  readonly url: string;
  readonly token: string;
  readonly adminToken: string;
  readonly kubeconfig: string;
  readonly caPem: string;
}

export class Lab implements LabHandle {
  private constructor(
    readonly name: string,
    readonly prefix: string,
    readonly scenario: Scenario,
    readonly topology: LabTopology,
    readonly store: ObjectStore,
    readonly url: string,
    readonly token: string,
    readonly adminToken: string,
    readonly kubeconfig: string,
    readonly caPem: string,
    private readonly flannel: Pick<FlannelController, "stop" | "idle">,
    private readonly stopServer: () => Promise<void>,
  ) {}

  /**
   * Builds everything; on any failure tears down what was built so far.
   * `name` labels the lab (defaults to the scenario name); the netns prefix
   * is random so the same scenario can run twice at once.
   */
  static async start(scenario: Scenario, opts: { name?: string } = {}): Promise<Lab> {
    const name = opts.name ?? scenario.name;
    if (scenario.synthetic) {
      // no namespaces and no flannel to run: the simulated data plane answers every exec
      const syn = await startSyntheticCluster(scenario, name);
      const topology: LabTopology = { prefix: "", nodes: {}, networks: {}, services: {} };
      const idle = { stop: () => Promise.resolve(), idle: () => Promise.resolve() };
      return new Lab(name, "", scenario, topology, syn.store, syn.url, syn.token, syn.adminToken, syn.kubeconfig, syn.caPem, idle, syn.stop);
    }
    const prefix = `${LAB_PREFIX}${randomBytes(3).toString("hex")}`;
    const certDir = await mkdtemp(join(tmpdir(), "xnode-lab-certs-"));
    let flannel: FlannelController | undefined;
    let stopServer: (() => Promise<void>) | undefined;
    try {
      const [topology, tls, agentDir] = await Promise.all([buildTopology(scenario, prefix), makeCertificates(certDir), agentBinaryDir()]);
      const store = new ObjectStore();
      const { objects, execTargets } = initialObjects(scenario, topology);
      for (const o of objects) store.create(o);
      const execMap = new Map(execTargets.map((t) => [`${t.namespace}/${t.name}`, t.netns]));

      flannel = new FlannelController(scenario, topology, store);
      await flannel.start();
      for (const fault of scenario.faults) await applyFault(topology, scenario, fault, flannel.leases());

      const token = randomBytes(24).toString("hex");
      const adminToken = randomBytes(24).toString("hex");
      const server = await startApiServer({
        store,
        token,
        adminToken,
        tls: { cert: tls.certPem, key: tls.keyPem },
        customResources: scenario.flannel.distribution === "rke2-canal" ? ["HelmChart", "HelmChartConfig"] : [],
        execPathDirs: [agentDir],
        resolveExec: (namespace, pod) => {
          const netns = execMap.get(`${namespace}/${pod}`) ?? flannelPodNetns(store, topology, namespace, pod);
          return netns ? { netns } : undefined;
        },
      });
      stopServer = server.stop;
      const kubeconfig = renderKubeconfig({ name, server: server.url, caPem: tls.caPem, token });
      return new Lab(name, prefix, scenario, topology, store, server.url, token, adminToken, kubeconfig, tls.caPem, flannel, server.stop);
    } catch (err) {
      await flannel?.stop().catch(() => undefined);
      await stopServer?.().catch(() => undefined);
      await destroyTopology(prefix).catch(() => undefined);
      throw err;
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  }

  /** Waits for rollouts triggered by API changes to finish. */
  settled(): Promise<void> {
    return this.flannel.idle();
  }

  async stop(): Promise<void> {
    await this.flannel.stop().catch(() => undefined);
    await this.stopServer().catch(() => undefined);
    if (this.prefix) await destroyTopology(this.prefix);
  }
}

/** flannel pods run with hostNetwork: exec lands in the node's namespace. */
function flannelPodNetns(store: ObjectStore, topo: LabTopology, namespace: string, pod: string): string | undefined {
  const p = store.get("Pod", namespace, pod) as { spec?: { nodeName?: string; hostNetwork?: boolean } } | undefined;
  if (!p?.spec?.hostNetwork || !p.spec.nodeName) return undefined;
  return topo.nodes[p.spec.nodeName]?.netns;
}

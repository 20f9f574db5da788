// Starts a synthetic cluster: the emulated API server with the generated
// objects, every exec answered by the simulated data plane after the
// scenario's execLatencyMs (plus what the command itself would take).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCertificates } from "../apiserver/certs.js";
import { renderKubeconfig } from "../apiserver/kubeconfig.js";
import { startApiServer } from "../apiserver/server.js";
import { ObjectStore } from "../apiserver/store.js";
import type { Scenario } from "../scenario.js";
import { AgentExec } from "./agent-exec.js";
import { planSyntheticCluster, type SynthCluster } from "./cluster-plan.js";
import { syntheticObjects } from "./cluster-objects.js";
import { nodeFaults } from "./node-faults.js";
import { PacketModel } from "./packet-paths.js";

export interface SyntheticCluster {
  cluster: SynthCluster;
  store: ObjectStore;
  url: string;
  token: string;
  adminToken: string;
  kubeconfig: string;
  caPem: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startSyntheticCluster(scenario: Scenario, name: string): Promise<SyntheticCluster> {
  const cluster = planSyntheticCluster(scenario);
  const agents = new AgentExec(cluster, new PacketModel(cluster, nodeFaults(cluster)));
  const latencyMs = scenario.synthetic?.execLatencyMs ?? 0;
  const certDir = await mkdtemp(join(tmpdir(), "xnode-lab-certs-"));
  try {
    const tls = await makeCertificates(certDir);
    const store = new ObjectStore();
    const { objects, execTargets } = syntheticObjects(cluster);
    for (const o of objects) store.create(o);
    const token = randomBytes(24).toString("hex");
    const adminToken = randomBytes(24).toString("hex");
    const server = await startApiServer({
      store,
      token,
      adminToken,
      tls: { cert: tls.certPem, key: tls.keyPem },
      resolveExec: (namespace, pod) => {
        const agent = execTargets.get(`${namespace}/${pod}`);
        if (!agent) return undefined;
        return {
          simulate: async (command, stdin) => {
            const r = agents.run(agent, command, stdin);
            await sleep(latencyMs + r.busyMs);
            return r;
          },
        };
      },
    });
    const kubeconfig = renderKubeconfig({ name, server: server.url, caPem: tls.caPem, token });
    return { cluster, store, url: server.url, token, adminToken, kubeconfig, caPem: tls.caPem, stop: server.stop };
  } finally {
    await rm(certDir, { recursive: true, force: true });
  }
}

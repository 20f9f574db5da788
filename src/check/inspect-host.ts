// Runs the read-only host probes on one node through its host agent, all in
// parallel. A failed probe leaves a gap and an error, never aborts the node.
import { errorMessage, XnodeError } from "../errors.js";
import type { ExecTarget, KubeClient } from "../kube/kube-client.js";
import { addressesProbe } from "../probes/addresses.js";
import { fdbProbe } from "../probes/fdb.js";
import { iptablesLegacyProbe, iptablesNftProbe } from "../probes/iptables.js";
import { neighboursProbe } from "../probes/neighbours.js";
import { nftablesProbe } from "../probes/nftables.js";
import type { Probe } from "../probes/probe.js";
import { routesProbe } from "../probes/routes.js";
import { sysctlsProbe } from "../probes/sysctls.js";
import { vxlanDevicesProbe } from "../probes/vxlan-devices.js";
import type { HostEvidence, NodeSnapshot } from "../model/index.js";

export async function runProbe<I, O>(kube: KubeClient, target: ExecTarget, probe: Probe<I, O>, input: I, timeoutMs: number): Promise<O> {
  const result = await kube.exec(target, probe.argv(input), timeoutMs, probe.stdin?.(input));
  if (result.exitCode !== 0) {
    const why = result.stderr.trim().split("\n")[0] || `exit code ${result.exitCode}`;
    throw new XnodeError(
      "PROBE_FAILED",
      `${probe.name} failed on ${target.label}: ${why}`,
      "Check that the agent image has the tool and the agent runs privileged on the host network (deploy/).",
    );
  }
  return probe.parse(result.stdout, input);
}

export function hostAgentTarget(node: NodeSnapshot): ExecTarget | undefined {
  return node.hostAgent && { ...node.hostAgent, pod: node.hostAgent.name, label: `host agent on ${node.name}` };
}

export async function inspectHost(kube: KubeClient, node: NodeSnapshot, timeoutMs: number): Promise<HostEvidence> {
  const evidence: HostEvidence = { node: node.name, errors: [] };
  const target = hostAgentTarget(node);
  if (!target) {
    evidence.errors.push({ probe: "host-agent", message: `no ready xnode host agent on ${node.name}` });
    return evidence;
  }
  const collect = async <O>(probe: Probe<void, O>, set: (value: O) => void) => {
    try {
      set(await runProbe(kube, target, probe, undefined, timeoutMs));
    } catch (err) {
      evidence.errors.push({ probe: probe.name, message: errorMessage(err) });
    }
  };
  await Promise.all([
    collect(addressesProbe, (v) => (evidence.interfaces = v)),
    collect(routesProbe, (v) => (evidence.routes = v)),
    collect(vxlanDevicesProbe, (v) => (evidence.vxlan = v)),
    collect(fdbProbe, (v) => (evidence.fdb = v)),
    collect(neighboursProbe, (v) => (evidence.neighbours = v)),
    collect(sysctlsProbe, (v) => (evidence.sysctls = v)),
    // both backends: each has its own hooks, and a node may hold rules in both
    collect(iptablesLegacyProbe, (v) => ((evidence.iptablesBackends ??= {}).legacy = v)),
    collect(iptablesNftProbe, (v) => ((evidence.iptablesBackends ??= {}).nft = v)),
    collect(nftablesProbe, (v) => (evidence.nftables = v)),
  ]);
  return evidence;
}

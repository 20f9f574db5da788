// Runs the read-only host probes on one node through its host agent, all in
// one exec. A failed probe leaves a gap and an error, never aborts the node.
import { errorMessage, XnodeError } from "../errors.js";
import type { ExecTarget, KubeClient } from "../kube/kube-client.js";
import { addressesProbe } from "../probes/addresses.js";
import { batchArgv, parseBatch, type BatchSection } from "../probes/host-batch.js";
import { fdbProbe } from "../probes/fdb.js";
import { iptablesLegacyProbe, iptablesNftProbe } from "../probes/iptables.js";
import { neighboursProbe } from "../probes/neighbours.js";
import { nftablesProbe } from "../probes/nftables.js";
import type { Probe } from "../probes/probe.js";
import { routesProbe } from "../probes/routes.js";
import { sysctlsProbe } from "../probes/sysctls.js";
import { vxlanDevicesProbe } from "../probes/vxlan-devices.js";
import type { HostEvidence, NodeSnapshot } from "../model/index.js";

function probeFailed(probe: string, target: ExecTarget, stderr: string, exitCode: number): XnodeError {
  const why = stderr.trim().split("\n")[0] || `exit code ${exitCode}`;
  return new XnodeError(
    "PROBE_FAILED",
    `${probe} failed on ${target.label}: ${why}`,
    "Check that the agent image has the tool and the agent runs privileged on the host network (deploy/).",
  );
}

export async function runProbe<I, O>(kube: KubeClient, target: ExecTarget, probe: Probe<I, O>, input: I, timeoutMs: number): Promise<O> {
  const result = await kube.exec(target, probe.argv(input), timeoutMs, probe.stdin?.(input));
  if (result.exitCode !== 0) throw probeFailed(probe.name, target, result.stderr, result.exitCode);
  return probe.parse(result.stdout, input);
}

export function hostAgentTarget(node: NodeSnapshot): ExecTarget | undefined {
  return node.hostAgent && { ...node.hostAgent, pod: node.hostAgent.name, label: `host agent on ${node.name}` };
}

/** Every read-only host probe, and where its result goes in the evidence. */
const HOST_PROBES: { probe: Probe<void, unknown>; set: (e: HostEvidence, value: never) => void }[] = [
  { probe: addressesProbe, set: (e, v) => (e.interfaces = v) },
  { probe: routesProbe, set: (e, v) => (e.routes = v) },
  { probe: vxlanDevicesProbe, set: (e, v) => (e.vxlan = v) },
  { probe: fdbProbe, set: (e, v) => (e.fdb = v) },
  { probe: neighboursProbe, set: (e, v) => (e.neighbours = v) },
  { probe: sysctlsProbe, set: (e, v) => (e.sysctls = v) },
  // both backends: each has its own hooks, and a node may hold rules in both
  { probe: iptablesLegacyProbe, set: (e, v) => ((e.iptablesBackends ??= {}).legacy = v) },
  { probe: iptablesNftProbe, set: (e, v) => ((e.iptablesBackends ??= {}).nft = v) },
  { probe: nftablesProbe, set: (e, v) => (e.nftables = v) },
];

const HOST_BATCH = batchArgv(HOST_PROBES.map(({ probe }) => ({ name: probe.name, argv: probe.argv(undefined) })));

/** All host probes in one exec (host-batch.ts): a probe that fails leaves its gap and its error, the others still count. */
export async function inspectHost(kube: KubeClient, node: NodeSnapshot, timeoutMs: number): Promise<HostEvidence> {
  const evidence: HostEvidence = { node: node.name, errors: [] };
  const target = hostAgentTarget(node);
  if (!target) {
    evidence.errors.push({ probe: "host-agent", message: `no ready xnode host agent on ${node.name}` });
    return evidence;
  }
  let sections: Map<string, BatchSection>;
  try {
    const result = await kube.exec(target, HOST_BATCH, timeoutMs);
    sections = parseBatch(result.stdout);
    if (sections.size === 0 && result.exitCode !== 0) throw probeFailed("host probes", target, result.stderr, result.exitCode);
  } catch (err) {
    for (const { probe } of HOST_PROBES) evidence.errors.push({ probe: probe.name, message: errorMessage(err) });
    return evidence;
  }
  for (const { probe, set } of HOST_PROBES) {
    try {
      const section = sections.get(probe.name);
      if (!section) throw probeFailed(probe.name, target, "the host agent's batch ended before it", 1);
      if (section.exitCode !== 0) throw probeFailed(probe.name, target, section.stderr, section.exitCode);
      set(evidence, probe.parse(section.stdout, undefined) as never);
    } catch (err) {
      evidence.errors.push({ probe: probe.name, message: errorMessage(err) });
    }
  }
  return evidence;
}

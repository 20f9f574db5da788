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
import { foldExpectation, hostTablesFrom } from "../diagnosis/overlay-templates.js";
import { overlayFoldProbe } from "../probes/overlay-fold.js";
import type { ClusterSnapshot, HostEvidence, NodeSnapshot } from "../model/index.js";

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

type HostProbe = { probe: Probe<void, unknown>; set: (e: HostEvidence, value: never) => void };

/** The routing, neighbour and FDB tables: read by `xnode-agent overlay` in one go, or by these when it cannot. */
const TABLE_PROBES: HostProbe[] = [
  { probe: routesProbe, set: (e, v) => (e.routes = v) },
  { probe: fdbProbe, set: (e, v) => (e.fdb = v) },
  { probe: neighboursProbe, set: (e, v) => (e.neighbours = v) },
];

/** The other read-only host probes, and where each result goes in the evidence. */
const OTHER_PROBES: HostProbe[] = [
  { probe: addressesProbe, set: (e, v) => (e.interfaces = v) },
  { probe: vxlanDevicesProbe, set: (e, v) => (e.vxlan = v) },
  { probe: sysctlsProbe, set: (e, v) => (e.sysctls = v) },
  // both backends: each has its own hooks, and a node may hold rules in both
  { probe: iptablesLegacyProbe, set: (e, v) => ((e.iptablesBackends ??= {}).legacy = v) },
  { probe: iptablesNftProbe, set: (e, v) => ((e.iptablesBackends ??= {}).nft = v) },
  { probe: nftablesProbe, set: (e, v) => (e.nftables = v) },
];

const commandOf = ({ probe }: HostProbe) => ({ name: probe.name, argv: probe.argv(undefined) });
const TABLES_BATCH = batchArgv(TABLE_PROBES.map(commandOf));

/** One exec of a batch; a probe whose section is missing or failed gets its error, the others their values. */
async function runBatch(
  kube: KubeClient,
  target: ExecTarget,
  argv: string[],
  timeoutMs: number,
  probes: HostProbe[],
  evidence: HostEvidence,
): Promise<Map<string, BatchSection> | undefined> {
  let sections: Map<string, BatchSection>;
  try {
    const result = await kube.exec(target, argv, timeoutMs);
    sections = parseBatch(result.stdout);
    if (sections.size === 0 && result.exitCode !== 0) throw probeFailed("host probes", target, result.stderr, result.exitCode);
  } catch (err) {
    for (const { probe } of probes) evidence.errors.push({ probe: probe.name, message: errorMessage(err) });
    return undefined;
  }
  for (const { probe, set } of probes) {
    try {
      set(evidence, probe.parse(sectionOf(sections, probe.name, target), undefined) as never);
    } catch (err) {
      evidence.errors.push({ probe: probe.name, message: errorMessage(err) });
    }
  }
  return sections;
}

function sectionOf(sections: Map<string, BatchSection>, probe: string, target: ExecTarget): string {
  const section = sections.get(probe);
  if (!section) throw probeFailed(probe, target, "the host agent's batch ended before it", 1);
  if (section.exitCode !== 0) throw probeFailed(probe, target, section.stderr, section.exitCode);
  return section.stdout;
}

/**
 * All host probes in one exec (host-batch.ts): a probe that fails leaves its
 * gap and its error, the others still count. With the check's snapshot, the
 * agent folds the node's per-peer overlay entries against the leases
 * (overlay-fold.ts), and the evidence comes back compacted; an agent that
 * cannot (an older image) costs a second exec for the tables.
 */
export async function inspectHost(kube: KubeClient, node: NodeSnapshot, timeoutMs: number, snapshot?: ClusterSnapshot): Promise<HostEvidence> {
  const evidence: HostEvidence = { node: node.name, errors: [] };
  const target = hostAgentTarget(node);
  if (!target) {
    evidence.errors.push({ probe: "host-agent", message: `no ready xnode host agent on ${node.name}` });
    return evidence;
  }
  const expect = snapshot && foldExpectation(snapshot, node.name);
  const overlay = { name: overlayFoldProbe.name, argv: overlayFoldProbe.argv(expect) };
  const sections = await runBatch(kube, target, batchArgv([overlay, ...OTHER_PROBES.map(commandOf)]), timeoutMs, OTHER_PROBES, evidence);
  if (!sections) {
    for (const { probe } of TABLE_PROBES) evidence.errors.push({ probe: probe.name, message: evidence.errors[0]!.message });
    return evidence;
  }
  try {
    const read = overlayFoldProbe.parse(sectionOf(sections, overlay.name, target), expect);
    return { ...evidence, ...(snapshot ? hostTablesFrom(snapshot, node.name, read) : read.tables) };
  } catch {
    await runBatch(kube, target, TABLES_BATCH, timeoutMs, TABLE_PROBES, evidence);
    return evidence;
  }
}

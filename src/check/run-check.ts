// One complete check of a cluster: snapshot → inspect every host → every
// agent probes its targets → diagnose. Nodes run in parallel; a node that does
// not answer is named in the report and the others are still reported.
import { diagnose, diagnoseHostEvidence } from "../diagnosis/diagnose.js";
import { compactOverlay } from "../diagnosis/overlay-templates.js";
import { errorMessage } from "../errors.js";
import type { ExecTarget, KubeClient } from "../kube/kube-client.js";
import type {
  CheckEvidence,
  CheckReport,
  ClusterSnapshot,
  Finding,
  HostEvidence,
  MatrixEntry,
  PlannedTarget,
  ProgressEvent,
  ReachTarget,
} from "../model/index.js";
import { hostReachabilityProbe, podReachabilityProbe, REACH_CONCURRENCY } from "../probes/reachability.js";
import { collectSnapshot } from "./collect-snapshot.js";
import { hostAgentTarget, inspectHost, runProbe } from "./inspect-host.js";
import { traceFailingPairs } from "./observe-packets.js";
import { planReachTargets } from "./plan-reach-targets.js";
import { FULL_MESH_MAX_NODES, samplePeers } from "./sample-peers.js";

export interface CheckOptions {
  execTimeoutMs: number;
  pingTimeoutSeconds: number;
  onProgress?: (event: ProgressEvent) => void;
  now?: () => Date;
}

export async function probeTargets(
  kube: KubeClient,
  target: ExecTarget,
  agent: "host" | "pod",
  planned: PlannedTarget[],
  opts: Pick<CheckOptions, "execTimeoutMs" | "pingTimeoutSeconds">,
): Promise<MatrixEntry[]> {
  const targets: ReachTarget[] = planned.map((p) => p.target);
  // REACH_CONCURRENCY targets at a time inside the agent: allow every wave its timeout, plus exec overhead.
  const input = { timeoutSeconds: opts.pingTimeoutSeconds, targets };
  const probe = agent === "host" ? hostReachabilityProbe : podReachabilityProbe;
  const waves = Math.max(1, Math.ceil(targets.length / REACH_CONCURRENCY));
  const results = await runProbe(kube, target, probe, input, opts.execTimeoutMs + waves * opts.pingTimeoutSeconds * 1000 + opts.pingTimeoutSeconds * 1000);
  return planned.map((p, i) => {
    const r = results[i]!;
    return { ...p.entry, ok: r.ok, ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}), ...(r.error ? { error: r.error } : {}) };
  });
}

export async function inspectAll(kube: KubeClient, snapshot: ClusterSnapshot, opts: CheckOptions): Promise<HostEvidence[]> {
  let done = 0;
  return Promise.all(
    snapshot.nodes.map(async (node) => {
      // compacted at once: a large cluster's hosts each list an entry per peer three times over
      const evidence = compactOverlay(snapshot, await inspectHost(kube, node, opts.execTimeoutMs, snapshot));
      done += 1;
      opts.onProgress?.({ phase: "inspect", node: node.name, done, total: snapshot.nodes.length, ok: evidence.errors.length === 0 });
      return evidence;
    }),
  );
}

export interface AgentProbes {
  node: string;
  agent: "host" | "pod";
  target: ExecTarget;
  planned: PlannedTarget[];
}

/**
 * Nodes the host evidence alone already finds something wrong with (the rules
 * run without a matrix): in a large cluster they get their full row and column.
 */
export function evidenceSuspects(snapshot: ClusterSnapshot, hosts: HostEvidence[]): string[] {
  const named = diagnoseHostEvidence({ snapshot, hosts, matrix: [], unreachableNodes: [] }).flatMap((f) => f.nodes);
  return [...new Set(named)];
}

/** Every agent's share of the reachability round, grouped per node. */
export function planAgentProbes(snapshot: ClusterSnapshot, hosts: HostEvidence[]): AgentProbes[] {
  const names = snapshot.nodes.map((n) => n.name);
  const suspects = names.length > FULL_MESH_MAX_NODES ? evidenceSuspects(snapshot, hosts) : [];
  const plan = planReachTargets(snapshot, hosts, samplePeers(names, suspects));
  const jobs: AgentProbes[] = [];
  for (const node of snapshot.nodes) {
    const host = hostAgentTarget(node);
    const hostPlan = plan.host.get(node.name);
    if (host && hostPlan?.length) jobs.push({ node: node.name, agent: "host", target: host, planned: hostPlan });
    const podPlan = plan.pod.get(node.name);
    if (node.podAgent && podPlan?.length) {
      jobs.push({ node: node.name, agent: "pod", target: { ...node.podAgent, pod: node.podAgent.name, label: `pod agent on ${node.name}` }, planned: podPlan });
    }
  }
  return jobs;
}

/** Runs agents' probes in parallel; an agent that fails is reported, not fatal. */
export async function runAgentProbes(
  kube: KubeClient,
  jobs: AgentProbes[],
  opts: Pick<CheckOptions, "execTimeoutMs" | "pingTimeoutSeconds">,
  onDone?: (job: AgentProbes) => void,
): Promise<{ matrix: MatrixEntry[]; failures: { node: string; error: string }[] }> {
  const failures: { node: string; error: string }[] = [];
  const parts = await Promise.all(
    jobs.map(async (job) => {
      try {
        return await probeTargets(kube, job.target, job.agent, job.planned, opts);
      } catch (err) {
        failures.push({ node: job.node, error: errorMessage(err) });
        return [];
      } finally {
        onDone?.(job);
      }
    }),
  );
  return { matrix: parts.flat(), failures };
}

/** A node is unreachable when nothing at all could be read from its agents. */
function unreachableNodes(hosts: HostEvidence[], reachFailures: { node: string; error: string }[]): { node: string; error: string }[] {
  const out = new Map<string, string>();
  for (const h of hosts) {
    const readNothing = !h.interfaces && !h.routes && !h.vxlan && !h.fdb && !h.neighbours && !h.sysctls && !h.iptables && !h.iptablesBackends;
    if (readNothing && h.errors[0]) out.set(h.node, h.errors[0].message);
  }
  for (const f of reachFailures) if (!out.has(f.node)) out.set(f.node, f.error);
  return [...out].map(([node, error]) => ({ node, error }));
}

export interface GatheredEvidence {
  snapshot: ClusterSnapshot;
  hosts: HostEvidence[];
  matrix: MatrixEntry[];
  reachFailures: { node: string; error: string }[];
}

/**
 * Diagnoses gathered evidence into the report the CLI prints and Slack shows.
 * Failures no rule explains get a second round: packet captures along a few
 * failing pairs' paths, then the rules again with what the captures saw.
 */
export async function diagnoseEvidence(
  kube: KubeClient,
  gathered: GatheredEvidence,
  opts: Pick<CheckOptions, "execTimeoutMs"> & { startedAt: Date; now: () => Date },
): Promise<{ report: CheckReport; evidence: CheckEvidence }> {
  const { snapshot, hosts, matrix, reachFailures } = gathered;
  const evidence: CheckEvidence = { snapshot, hosts, matrix, unreachableNodes: unreachableNodes(hosts, reachFailures) };
  let findings = diagnose(evidence);
  const traces = await traceFailingPairs(kube, evidence, findings, opts);
  if (traces.length > 0) {
    evidence.traces = traces;
    findings = diagnose(evidence);
  }
  return {
    report: reportOf(evidence, findings, { startedAt: opts.startedAt.toISOString(), durationMs: opts.now().getTime() - opts.startedAt.getTime() }),
    evidence,
  };
}

function reportOf(evidence: CheckEvidence, findings: Finding[], timing: { startedAt: string; durationMs: number }): CheckReport {
  const { snapshot, matrix } = evidence;
  const unreachable = new Map(evidence.unreachableNodes.map((u) => [u.node, u.error]));
  return {
    cluster: snapshot.cluster,
    ...timing,
    nodes: snapshot.nodes.map((n) => ({
      name: n.name,
      internalIP: n.internalIP,
      podCIDR: n.podCIDR,
      publicIP: n.flannel.publicIP,
      probed: !unreachable.has(n.name) && !!n.hostAgent,
      ...(unreachable.has(n.name) ? { error: unreachable.get(n.name) } : {}),
    })),
    matrix,
    findings,
  };
}

export async function runCheck(kube: KubeClient, opts: CheckOptions): Promise<{ report: CheckReport; evidence: CheckEvidence }> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const snapshot = await collectSnapshot(kube, now);
  opts.onProgress?.({ phase: "snapshot", nodes: snapshot.nodes.length });
  const hosts = await inspectAll(kube, snapshot, opts);
  const jobs = planAgentProbes(snapshot, hosts);
  let done = 0;
  const { matrix, failures } = await runAgentProbes(kube, jobs, opts, (job) => {
    done += 1;
    opts.onProgress?.({ phase: "reach", node: job.node, done, total: jobs.length });
  });
  const result = await diagnoseEvidence(
    kube,
    { snapshot, hosts, matrix, reachFailures: failures },
    { execTimeoutMs: opts.execTimeoutMs, startedAt: started, now },
  );
  opts.onProgress?.({ phase: "diagnose", findings: result.report.findings.length });
  return result;
}

// Packet-observed traces: while the pod agent on one node pings the pod agent
// on another, the two host agents capture on every hop of the path (source
// cni0 → source flannel.<VNI> → source underlay → destination underlay →
// destination flannel.<VNI> → destination cni0). Where the probe was last
// seen tells apart "never left the node", "lost between the nodes" (a
// security group, a hypervisor firewall) and "lost inside the receiver".
// Bounded: a few pairs, filtered to the probe's addresses, capped in packets
// and seconds; three execs per pair.
import { routeLookup } from "../diagnosis/overlay-entries.js";
import { expandOverlay } from "../diagnosis/overlay-templates.js";
import { errorMessage, XnodeError } from "../errors.js";
import type { ExecTarget, KubeClient } from "../kube/kube-client.js";
import type { CheckEvidence, ClusterSnapshot, Finding, HostEvidence, ObservedPoint, PacketTrace } from "../model/index.js";
import { captureFilters, packetCaptureProbe, type CaptureResult } from "../probes/packet-capture.js";
import { collectSnapshot } from "./collect-snapshot.js";
import { hostAgentTarget, inspectHost, runProbe } from "./inspect-host.js";

export interface TraceOptions {
  execTimeoutMs: number;
  /** how long each capture listens */
  captureSeconds?: number;
  /** pings the pod agent sends */
  probes?: number;
  /** before the pings start, so every tcpdump listens */
  captureStartDelayMs?: number;
}

interface Point {
  node: string;
  iface: string;
  role: NonNullable<ObservedPoint["role"]>;
  filter: string;
}

const DEFAULTS = { captureSeconds: 3, probes: 3, captureStartDelayMs: 1000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The interfaces a pod packet crosses on `host` toward (or from) the peer's pod
 * CIDR, from the node's own route to it: a flannel.<VNI> device means VXLAN out
 * of that device's underlay; any other device (host-gw, VXLAN DirectRouting)
 * carries the pod packet itself and is the underlay.
 */
function hopsOn(host: HostEvidence | undefined, peerPodCIDR: string | undefined): { bridge?: string; tunnel?: string; underlay?: string } {
  const bridge = (host?.interfaces ?? []).some((i) => i.name === "cni0") ? "cni0" : undefined;
  const route = peerPodCIDR ? routeLookup(host?.routes ?? [], peerPodCIDR.split("/")[0]!) : undefined;
  const device = route?.dev ? (host?.vxlan ?? []).find((d) => d.name === route.dev) : undefined;
  if (device) return { bridge, tunnel: device.name, underlay: device.underlay };
  return { bridge, underlay: route?.dev };
}

function podAgentTarget(snapshot: ClusterSnapshot, node: string): ExecTarget | undefined {
  const agent = snapshot.nodes.find((n) => n.name === node)?.podAgent;
  return agent && { namespace: agent.namespace, pod: agent.name, label: `pod agent on ${node}` };
}

function describe(result: CaptureResult | undefined): Pick<ObservedPoint, "seen" | "captured" | "packets" | "detail"> {
  if (!result) return { seen: false, captured: false, packets: 0, detail: "not captured: no result from the host agent" };
  if (result.packets === 0) {
    return result.error
      ? { seen: false, captured: false, packets: 0, detail: `cannot capture: ${result.error}` }
      : { seen: false, captured: true, packets: 0, detail: "no probe packet" };
  }
  return {
    seen: true,
    captured: true,
    packets: result.packets,
    detail: `${result.packets} probe packet${result.packets === 1 ? "" : "s"}${result.first ? ` (${result.first})` : ""}`,
  };
}

export async function capturePair(
  kube: KubeClient,
  snapshot: ClusterSnapshot,
  hosts: readonly HostEvidence[],
  from: string,
  to: string,
  opts: TraceOptions,
): Promise<PacketTrace> {
  const unavailable = (why: string): PacketTrace => ({ from, to, observed: [], lostAfter: null, unavailable: why });
  try {
    return await observe(kube, snapshot, hosts, from, to, { ...DEFAULTS, ...opts }, unavailable);
  } catch (err) {
    // A trace is extra evidence: whatever goes wrong with it, the check still reports.
    return unavailable(`capture failed: ${errorMessage(err)}`);
  }
}

async function observe(
  kube: KubeClient,
  snapshot: ClusterSnapshot,
  hosts: readonly HostEvidence[],
  from: string,
  to: string,
  o: Required<TraceOptions>,
  unavailable: (why: string) => PacketTrace,
): Promise<PacketTrace> {
  const [src, dst] = [from, to].map((n) => snapshot.nodes.find((x) => x.name === n));
  const srcIP = src?.podAgent?.podIP;
  const dstIP = dst?.podAgent?.podIP;
  if (!src || !dst || !srcIP || !dstIP) return unavailable(`no pod agent address on ${!srcIP ? from : to}`);
  const pinger = podAgentTarget(snapshot, from);
  const [srcAgent, dstAgent] = [hostAgentTarget(src), hostAgentTarget(dst)];
  if (!pinger || !srcAgent || !dstAgent) return unavailable(`no xnode agents to capture with on ${!srcAgent ? from : to}`);
  const filters = captureFilters(srcIP, dstIP, snapshot.flannel.vxlanPort);
  // the route to the peer's pod CIDR may be one compaction stored as a template
  const hostOf = (name: string) => {
    const host = hosts.find((h) => h.node === name);
    return host && expandOverlay(snapshot, host);
  };
  const out = hopsOn(hostOf(from), dst.podCIDR);
  const into = hopsOn(hostOf(to), src.podCIDR);
  if (!out.underlay || !into.underlay) return unavailable(`no route to the other node's pod CIDR read on ${!out.underlay ? from : to}: the path is not known`);
  const wire = (tunnelled: boolean) => (tunnelled ? filters.vxlan : filters.inner);
  const path: Point[] = [
    ...(out.bridge ? [{ node: from, iface: out.bridge, role: "bridge" as const, filter: filters.inner }] : []),
    ...(out.tunnel ? [{ node: from, iface: out.tunnel, role: "tunnel" as const, filter: filters.inner }] : []),
    { node: from, iface: out.underlay, role: "underlay", filter: wire(!!out.tunnel) },
    { node: to, iface: into.underlay, role: "underlay", filter: wire(!!into.tunnel) },
    ...(into.tunnel ? [{ node: to, iface: into.tunnel, role: "tunnel" as const, filter: filters.inner }] : []),
    ...(into.bridge ? [{ node: to, iface: into.bridge, role: "bridge" as const, filter: filters.inner }] : []),
  ];
  const capture = async (node: string, agent: ExecTarget): Promise<CaptureResult[]> => {
    const points = path.filter((p) => p.node === node).map(({ iface, filter }) => ({ iface, filter }));
    const input = { seconds: o.captureSeconds, maxPackets: o.probes * 3, points };
    return runProbe(kube, agent, packetCaptureProbe, input, o.execTimeoutMs + o.captureSeconds * 1000);
  };
  // Both captures are asked for first; the pings start once tcpdump listens on every point.
  const captures = Promise.all([capture(from, srcAgent), capture(to, dstAgent)]);
  captures.catch(() => undefined); // awaited below; a fast failure must not be an unhandled rejection meanwhile
  await sleep(o.captureStartDelayMs);
  const ping = await kube
    .exec(pinger, ["ping", "-n", "-c", String(o.probes), "-i", "0.2", "-W", "1", dstIP], o.execTimeoutMs)
    .then((r) => (r.exitCode === 0 || r.exitCode === 1 ? undefined : `exit ${r.exitCode}: ${r.stderr.trim().split("\n")[0]}`))
    .catch((err: unknown) => errorMessage(err));
  const results = await captures;
  // ping exits 0 (answered) or 1 (no answer); anything else means no probe was sent
  if (ping !== undefined) return unavailable(`the pod agent on ${from} could not send the probe (${ping})`);
  const byNode = { [from]: results[0], [to]: results[1] };
  const observed = path.map((p) => ({ point: `${p.node}/${p.iface}`, role: p.role, ...describe(byNode[p.node]?.find((r) => r.iface === p.iface)) }));
  if (!observed.some((p) => p.captured)) return { ...unavailable(`no capture point could capture: ${observed[0]?.detail ?? "none"}`), observed };
  const lastSeen = [...observed].reverse().find((p) => p.seen);
  return { from, to, observed, lostAfter: lastSeen?.point ?? null };
}

/** Traced pairs per check at most: each costs three execs and a few seconds. */
export const MAX_TRACED_PAIRS = 3;

/** Failing pod pairs that need their packets observed: those only connectivity-unexplained or a suspicion covers. One per destination node first. */
export function pairsToTrace(ev: CheckEvidence, findings: readonly Finding[]): { from: string; to: string }[] {
  const open = findings.filter((f) => f.id === "connectivity-unexplained" || (f.id === "udp-vxlan-blocked" && f.severity === "warning"));
  const nodes = new Set(open.flatMap((f) => f.nodes));
  const failed = ev.matrix.filter((e) => e.kind === "pod-icmp" && !e.ok && e.from !== e.to && (nodes.has(e.from) || nodes.has(e.to)));
  const picked: { from: string; to: string }[] = [];
  const seenTo = new Set<string>();
  const pick = (e: { from: string; to: string }) => {
    if (picked.length >= MAX_TRACED_PAIRS || picked.some((p) => p.from === e.from && p.to === e.to)) return;
    seenTo.add(e.to);
    picked.push({ from: e.from, to: e.to });
  };
  // one pair per destination node first, then any other failing pair
  for (const e of failed) if (!seenTo.has(e.to)) pick(e);
  for (const e of failed) pick(e);
  return picked;
}

export async function traceFailingPairs(kube: KubeClient, ev: CheckEvidence, findings: readonly Finding[], opts: TraceOptions): Promise<PacketTrace[]> {
  return Promise.all(pairsToTrace(ev, findings).map((p) => capturePair(kube, ev.snapshot, ev.hosts, p.from, p.to, opts)));
}

/** `xnode trace` / `/xnode trace`: one pair on demand, with just the two nodes inspected. */
export async function traceNodes(kube: KubeClient, from: string, to: string, opts: TraceOptions): Promise<PacketTrace> {
  const snapshot = await collectSnapshot(kube);
  const missing = [from, to].filter((n) => !snapshot.nodes.some((x) => x.name === n));
  if (missing.length > 0) {
    const known = snapshot.nodes.map((n) => n.name).join(", ");
    throw new XnodeError("CONFIG_INVALID", `no node named ${missing.join(" or ")} in cluster ${kube.cluster}`, `Nodes in ${kube.cluster}: ${known}.`);
  }
  if (from === to) throw new XnodeError("CONFIG_INVALID", "a trace needs two different nodes", "Name the node the probe starts on and the node it goes to.");
  const hosts = await Promise.all(
    [from, to].map((n) =>
      inspectHost(
        kube,
        snapshot.nodes.find((x) => x.name === n)!,
        opts.execTimeoutMs,
      ),
    ),
  );
  return capturePair(kube, snapshot, hosts, from, to, opts);
}

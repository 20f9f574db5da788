// Packet-observed traces: while the pod agent on one node pings the pod agent
// on another, the two host agents capture on every hop of the path (source
// cni0 → source flannel.<VNI> → source underlay → destination underlay →
// destination flannel.<VNI> → destination cni0). Where the probe was last
// seen tells apart "never left the node", "lost between the nodes" (a
// security group, a hypervisor firewall) and "lost inside the receiver".
// Bounded: a few pairs, filtered to the probe's addresses, capped in packets
// and seconds; three execs per pair.
import { routeLookup } from "../diagnosis/overlay-entries.js";
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
  filter: string;
}

const DEFAULTS = { captureSeconds: 3, probes: 3, captureStartDelayMs: 1000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The path a pod packet takes out of `node` toward `peerPodCIDR` (and into it from the peer), as interfaces. */
function hopsOn(
  host: HostEvidence | undefined,
  vni: number,
  peerPodCIDR: string | undefined,
): { bridge?: string; tunnel?: string; underlay?: string; tunnelled: boolean } {
  const names = new Set((host?.interfaces ?? []).map((i) => i.name));
  const device = (host?.vxlan ?? []).find((d) => d.name === `flannel.${vni}`) ?? (host?.vxlan ?? []).find((d) => d.name.startsWith("flannel."));
  const bridge = names.has("cni0") ? "cni0" : undefined;
  if (device) return { bridge, tunnel: device.name, underlay: device.underlay, tunnelled: true };
  // host-gw: pod packets leave through the interface routing the peer's pod CIDR
  const route = peerPodCIDR ? routeLookup(host?.routes ?? [], peerPodCIDR.split("/")[0]!) : undefined;
  return { bridge, underlay: route?.dev, tunnelled: false };
}

function podAgentTarget(snapshot: ClusterSnapshot, node: string): ExecTarget | undefined {
  const agent = snapshot.nodes.find((n) => n.name === node)?.podAgent;
  return agent && { namespace: agent.namespace, pod: agent.name, label: `pod agent on ${node}` };
}

function describe(result: CaptureResult | undefined): Pick<ObservedPoint, "seen" | "packets" | "detail"> {
  if (!result) return { seen: false, packets: 0, detail: "not captured: no result from the host agent" };
  if (result.packets === 0) return { seen: false, packets: 0, detail: result.error ? `cannot capture: ${result.error}` : "no probe packet" };
  return {
    seen: true,
    packets: result.packets,
    detail: `${result.packets} probe packet${result.packets === 1 ? "" : "s"}${result.first ? ` (${result.first})` : ""}`,
  };
}

export async function tracePair(
  kube: KubeClient,
  snapshot: ClusterSnapshot,
  hosts: readonly HostEvidence[],
  from: string,
  to: string,
  opts: TraceOptions,
): Promise<PacketTrace> {
  const o = { ...DEFAULTS, ...opts };
  const [src, dst] = [from, to].map((n) => snapshot.nodes.find((x) => x.name === n));
  const unavailable = (why: string): PacketTrace => ({ from, to, observed: [], lostAfter: null, unavailable: why });
  const srcIP = src?.podAgent?.podIP;
  const dstIP = dst?.podAgent?.podIP;
  if (!src || !dst || !srcIP || !dstIP) return unavailable(`no pod agent address on ${!srcIP ? from : to}`);
  const pinger = podAgentTarget(snapshot, from);
  const [srcAgent, dstAgent] = [hostAgentTarget(src), hostAgentTarget(dst)];
  if (!pinger || !srcAgent || !dstAgent) return unavailable(`no xnode agents to capture with on ${!srcAgent ? from : to}`);
  const filters = captureFilters(srcIP, dstIP, snapshot.flannel.vxlanPort);
  const out = hopsOn(
    hosts.find((h) => h.node === from),
    snapshot.flannel.vni,
    dst.podCIDR,
  );
  const into = hopsOn(
    hosts.find((h) => h.node === to),
    snapshot.flannel.vni,
    src.podCIDR,
  );
  const wire = (tunnelled: boolean) => (tunnelled ? filters.vxlan : filters.inner);
  const path: Point[] = [
    ...(out.bridge ? [{ node: from, iface: out.bridge, filter: filters.inner }] : []),
    ...(out.tunnel ? [{ node: from, iface: out.tunnel, filter: filters.inner }] : []),
    ...(out.underlay ? [{ node: from, iface: out.underlay, filter: wire(out.tunnelled) }] : []),
    ...(into.underlay ? [{ node: to, iface: into.underlay, filter: wire(into.tunnelled) }] : []),
    ...(into.tunnel ? [{ node: to, iface: into.tunnel, filter: filters.inner }] : []),
    ...(into.bridge ? [{ node: to, iface: into.bridge, filter: filters.inner }] : []),
  ];
  const capture = async (node: string, agent: ExecTarget): Promise<CaptureResult[]> => {
    const points = path.filter((p) => p.node === node).map(({ iface, filter }) => ({ iface, filter }));
    if (points.length === 0) return [];
    const input = { seconds: o.captureSeconds, maxPackets: o.probes * 3, points };
    return runProbe(kube, agent, packetCaptureProbe, input, o.execTimeoutMs + o.captureSeconds * 1000);
  };
  const captures = Promise.all([capture(from, srcAgent), capture(to, dstAgent)]);
  // Both captures are asked for first; the pings start once tcpdump listens on every point.
  await sleep(o.captureStartDelayMs);
  const ping = kube.exec(pinger, ["ping", "-n", "-c", String(o.probes), "-i", "0.2", "-W", "1", dstIP], o.execTimeoutMs).catch(() => undefined);
  let results: [CaptureResult[], CaptureResult[]];
  try {
    [results] = await Promise.all([captures, ping]);
  } catch (err) {
    return unavailable(`capture failed: ${errorMessage(err)}`);
  }
  const byNode = { [from]: results[0], [to]: results[1] };
  const observed = path.map((p) => ({ point: `${p.node}/${p.iface}`, ...describe(byNode[p.node]?.find((r) => r.iface === p.iface)) }));
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
  for (const e of [...failed.filter((e) => !seenTo.has(e.to)), ...failed]) {
    if (picked.length >= MAX_TRACED_PAIRS) break;
    if (picked.some((p) => p.from === e.from && p.to === e.to) || seenTo.has(e.to)) continue;
    seenTo.add(e.to);
    picked.push({ from: e.from, to: e.to });
  }
  return picked;
}

export async function traceFailingPairs(kube: KubeClient, ev: CheckEvidence, findings: readonly Finding[], opts: TraceOptions): Promise<PacketTrace[]> {
  return Promise.all(pairsToTrace(ev, findings).map((p) => tracePair(kube, ev.snapshot, ev.hosts, p.from, p.to, opts)));
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
  return tracePair(kube, snapshot, hosts, from, to, opts);
}

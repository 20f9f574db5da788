// Answers an exec into a synthetic cluster's pod the way the real command
// would answer inside that pod: the host agent (node network), the pod agent
// (pod network) and flannel's pods (node network). The product's scripts
// (reachability, packet capture, the batched host read) are recognised by
// the name they pass as $0 and answered from their positional parameters.
import type { SynthCluster, SynthNode } from "./cluster-plan.js";
import { catFiles, addrShow, fdbShow, neighShow, podAddrShow, routeShow, vxlanShow } from "./host-tools.js";
import { iptablesSave, nftRuleset } from "./firewall-tools.js";
import { overlayFold } from "./overlay-fold.js";
import { PacketModel, rttMsOf, type Endpoint, type Proto } from "./packet-paths.js";

export interface ExecAnswer {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** how long the real command would take beyond the exec itself (timeouts, capture windows) */
  busyMs: number;
}

export interface AgentRef {
  node: SynthNode;
  /** host and flannel pods share the node's network namespace */
  network: "node" | "pod";
}

const answer = (stdout: string, busyMs = 0, stderr = "", exitCode = 0): ExecAnswer => ({ stdout, stderr, exitCode, busyMs });
const notFound = (cmd: string): ExecAnswer => answer("", 0, `exec: "${cmd}": executable file not found in $PATH\n`, 127);

export class AgentExec {
  constructor(
    private readonly c: SynthCluster,
    private readonly model: PacketModel,
    private readonly now: () => Date = () => new Date(),
  ) {}

  run(agent: AgentRef, argv: readonly string[], stdin: string): ExecAnswer {
    const [cmd = "", ...args] = argv;
    const { node } = agent;
    const f = this.model.faultsOf(node);
    const line = argv.join(" ");
    if (agent.network === "pod") {
      if (line === "ip -j addr show") return answer(podAddrShow(node));
      if (cmd === "ping") return this.ping({ node, pod: true }, args);
      if (cmd === "sh" && args[0] === "-c") return this.script({ node, pod: true }, args.slice(2));
      if (cmd === "xnode-agent" && args[0] === "reach") return this.agentReach({ node, pod: true }, args.slice(1), stdin);
      return this.unknown(cmd);
    }
    switch (line) {
      case "ip -j addr show":
        return answer(addrShow(this.c, node, f));
      case "ip -j route show":
        return answer(routeShow(this.c, node, f));
      case "ip -j -d link show type vxlan":
        return answer(vxlanShow(this.c, node, f));
      case "bridge -j fdb show":
        return answer(fdbShow(this.c, node, f));
      case "ip -j neigh show":
        return answer(neighShow(this.c, node));
      case "iptables-save":
      case "iptables-nft-save":
      case "iptables-legacy-save":
        return answer(iptablesSave(this.c, node, f, cmd, this.now()));
      case "nft -j list ruleset":
        return answer(nftRuleset(this.c, node, f));
    }
    if (cmd === "cat") {
      const r = catFiles(f, args);
      return answer(r.stdout, 0, r.stderr, r.exitCode);
    }
    if (cmd === "ping") return this.ping({ node, pod: false }, args);
    if (cmd === "sh" && args[0] === "-c") return this.script({ node, pod: false }, args.slice(2));
    if (cmd === "xnode-agent" && args[0] === "reach") return this.agentReach({ node, pod: false }, args.slice(1), stdin);
    if (cmd === "xnode-agent" && args[0] === "overlay") {
      const r = overlayFold(this.c, node, f, args.slice(1));
      return answer(r.stdout, 0, r.stderr, r.exitCode);
    }
    return this.unknown(cmd);
  }

  private unknown(cmd: string): ExecAnswer {
    const known = ["ip", "bridge", "cat", "iptables-save", "iptables-nft-save", "iptables-legacy-save", "nft", "ping", "curl", "sh", "tcpdump", "xnode-agent"];
    if (!known.includes(cmd)) return notFound(cmd);
    return answer("", 0, `${cmd}: this synthetic node does not simulate that invocation\n`, 2);
  }

  /** `sh -c SCRIPT NAME ARGS…`: the product's fixed scripts, told apart by NAME ($0). */
  private script(from: Endpoint, params: readonly string[]): ExecAnswer {
    const [name, ...args] = params;
    if (name === "xnode-reach") return this.shellReach(from, args);
    if (name === "packet-capture" && !from.pod) return this.capture(from.node, args);
    if (name === "host-batch" && !from.pod) return this.batch({ node: from.node, network: "node" }, args);
    return answer("", 0, `sh: this synthetic node does not simulate script ${JSON.stringify(name)}\n`, 2);
  }

  /** host-batch.ts's script: each (name, command words) pair run in turn, between its markers. */
  private batch(agent: AgentRef, args: readonly string[]): ExecAnswer {
    let stdout = "";
    let busy = 0;
    for (let i = 0; i + 1 < args.length; i += 2) {
      const r = this.run(agent, args[i + 1]!.split(" "), "");
      const exitCode = r.exitCode === 127 && r.stderr.startsWith("exec:") ? 127 : r.exitCode;
      const stderr = exitCode === 127 ? `host-batch: 5: ${args[i + 1]!.split(" ")[0]}: not found` : (r.stderr.split("\n")[0] ?? "");
      stdout += `XNODE-SECTION ${args[i]} ${exitCode}\n${r.stdout}\nXNODE-STDERR ${args[i]} ${stderr}\n`;
      busy += r.busyMs;
    }
    return answer(stdout, busy);
  }

  private probe(from: Endpoint, kind: Proto, address: string, port?: number): { ok: boolean; rttMs: number } {
    const ok = this.model.roundTrip(from, address, kind, port);
    const peer = this.model.endpointOf(address)?.node ?? from.node;
    return { ok, rttMs: rttMsOf(from.node, peer) };
  }

  /** reachability.ts's script: `XNODE-RESULT id code rtt` per target (ping's ms, curl's time_connect in s). */
  private shellReach(from: Endpoint, args: readonly string[]): ExecAnswer {
    const timeoutS = Number(args[0]);
    const lines: string[] = [];
    let busy = 0;
    for (let i = 1; i + 5 <= args.length; i += 5) {
      const [id, kind, address, port] = args.slice(i, i + 4) as [string, string, string, string];
      const r = this.probe(from, kind === "tcp" ? "tcp" : "icmp", address, kind === "tcp" ? Number(port) : undefined);
      busy = Math.max(busy, r.ok ? r.rttMs : timeoutS * 1000);
      if (kind === "tcp") lines.push(`XNODE-RESULT ${id} ${r.ok ? 0 : 28} ${r.ok ? (r.rttMs / 1000).toFixed(6) : "0.000000"}`);
      else lines.push(`XNODE-RESULT ${id} ${r.ok ? 0 : 1} ${r.ok ? r.rttMs.toFixed(3) : "-"}`);
    }
    return answer(lines.map((l) => `${l}\n`).join(""), busy);
  }

  /** `xnode-agent reach --timeout S --concurrency N`, targets on stdin: one JSON line per target. */
  private agentReach(from: Endpoint, args: readonly string[], stdin: string): ExecAnswer {
    const opt = (flag: string, fallback: number) => {
      const i = args.indexOf(flag);
      return i >= 0 ? Number(args[i + 1]) : fallback;
    };
    const timeoutMs = opt("--timeout", 2) * 1000;
    const concurrency = Math.max(1, opt("--concurrency", 256));
    const out: string[] = [];
    const durations: number[] = [];
    for (const raw of stdin.split("\n")) {
      const words = raw.trim().split(/\s+/);
      if (words.length < 3) continue;
      const [id, kind, address, port] = words as [string, string, string, string | undefined];
      if (kind !== "icmp" && kind !== "tcp") {
        out.push(JSON.stringify({ id, ok: false, error: `unknown kind ${kind}` }));
        continue;
      }
      const r = this.probe(from, kind, address, kind === "tcp" ? Number(port) : undefined);
      durations.push(r.ok ? r.rttMs : timeoutMs);
      out.push(JSON.stringify(r.ok ? { id, ok: true, rttMs: r.rttMs } : { id, ok: false, error: "timeout" }));
    }
    // `concurrency` targets at a time: the slowest of each wave
    let busy = 0;
    for (let i = 0; i < durations.length; i += concurrency) busy += Math.max(...durations.slice(i, i + concurrency));
    return answer(out.map((l) => `${l}\n`).join(""), busy);
  }

  /** iputils ping's output for `ping -n -c N [-i S] [-W S] [-I IF] ADDR`. */
  private ping(from: Endpoint, args: readonly string[]): ExecAnswer {
    const address = args[args.length - 1] ?? "";
    const value = (flag: string, fallback: number) => {
      const i = args.indexOf(flag);
      return i >= 0 ? Number(args[i + 1]) : fallback;
    };
    const count = value("-c", 1);
    const waitS = value("-W", 10);
    const intervalS = value("-i", 1);
    const r = this.probe(from, "icmp", address);
    const lines = [`PING ${address} (${address}) 56(84) bytes of data.`];
    if (r.ok) for (let seq = 1; seq <= count; seq++) lines.push(`64 bytes from ${address}: icmp_seq=${seq} ttl=62 time=${r.rttMs.toFixed(3)} ms`);
    const spanMs = Math.round((count - 1) * intervalS * 1000 + (r.ok ? r.rttMs : 0));
    lines.push("", `--- ${address} ping statistics ---`);
    lines.push(`${count} packets transmitted, ${r.ok ? count : 0} received, ${r.ok ? 0 : 100}% packet loss, time ${spanMs}ms`);
    if (r.ok) lines.push(`rtt min/avg/max/mdev = ${[r.rttMs, r.rttMs, r.rttMs].map((x) => x.toFixed(3)).join("/")}/0.000 ms`);
    return answer(`${lines.join("\n")}\n`, r.ok ? spanMs : spanMs + waitS * 1000, "", r.ok ? 0 : 1);
  }

  /**
   * packet-capture.ts's script: per interface, how many of the probe's
   * packets (pod src → pod dst, read from the filter) cross it. The pod agent
   * on src pings 3 times during the window; that ping is assumed to be sent.
   */
  private capture(node: SynthNode, args: readonly string[]): ExecAnswer {
    const seconds = Number(args[0]);
    const maxPackets = Number(args[1]);
    const out: string[] = [];
    for (let i = 2; i + 1 < args.length; i += 2) {
      const iface = args[i]!;
      const pair = captureAddresses(args[i + 1]!);
      const src = pair && this.model.endpointOf(pair.src);
      const dst = pair && this.model.endpointOf(pair.dst);
      const known = [this.c.iface, this.c.vxlanDevice, "cni0", "veth0", "lo"].includes(iface);
      if (!known) {
        out.push(`XNODE-CAPTURE ${iface} 0`, `error tcpdump: ${iface}: No such device exists`);
        continue;
      }
      const path = src && dst ? this.model.overlay(src, dst, "icmp").seen : [];
      const hop = path.find((h) => h.node === node.name && h.iface === iface);
      const packets = hop ? Math.min(3, maxPackets) : 0;
      out.push(`XNODE-CAPTURE ${iface} ${packets}`);
      if (hop && pair && src && dst) out.push(`first ${tcpdumpLine(this.c, hop.role, pair, src.node, dst.node, this.now())}`);
    }
    return answer(out.map((l) => `${l}\n`).join(""), seconds * 1000);
  }
}

const hexIp = (hex: string) => [0, 2, 4, 6].map((o) => parseInt(hex.slice(2 + o, 4 + o), 16)).join(".");

/** The pod addresses a capture filter (packet-capture.ts's captureFilters) selects. */
export function captureAddresses(filter: string): { src: string; dst: string } | undefined {
  const inner = /^icmp and src host (\S+) and dst host (\S+)$/.exec(filter);
  if (inner) return { src: inner[1]!, dst: inner[2]! };
  const vxlan = /udp\[42:4\] = (0x[0-9a-f]{8}) and udp\[46:4\] = (0x[0-9a-f]{8})$/.exec(filter);
  return vxlan ? { src: hexIp(vxlan[1]!), dst: hexIp(vxlan[2]!) } : undefined;
}

function tcpdumpLine(c: SynthCluster, role: string, pair: { src: string; dst: string }, src: SynthNode, dst: SynthNode, now: Date): string {
  const time = now.toISOString().slice(11, 23) + "000";
  const icmp = `${pair.src} > ${pair.dst}: ICMP echo request, id 1, seq 1, length 64`;
  if (role !== "underlay") return `${time} IP ${icmp}`;
  const sport = 32768 + ((src.index * 131 + dst.index) % 28000);
  return `${time} IP ${src.internalIP}.${sport} > ${dst.internalIP}.${c.scenario.flannel.port}: OTV, flags [I] (0x08), overlay 0, instance ${c.scenario.flannel.vni}`;
}

// Hand-built reports shaped like the ones `xnode check --json` prints: the
// seed VirtualBox case, a healthy cluster, a 25-node cluster with one broken
// node, and a finding whose evidence is far too long for one message.
import type { CheckReport, Finding, MatrixEntry } from "../../src/model/index.js";

type Node = CheckReport["nodes"][number];

/** pod-icmp and pod-tcp between every ordered pair of pod agents; `fails` picks the failing probes. */
export function podMatrix(nodes: readonly Node[], fails: (from: string, to: string, kind: "pod-icmp" | "pod-tcp") => boolean): MatrixEntry[] {
  const probed = nodes.filter((n) => n.probed);
  return probed.flatMap((from, i) =>
    nodes
      .filter((to) => to.name !== from.name)
      .flatMap((to) =>
        (["pod-icmp", "pod-tcp"] as const).map((kind): MatrixEntry => {
          const target = `10.244.${nodes.indexOf(to)}.2${kind === "pod-tcp" ? ":8080" : ""}`;
          return fails(from.name, to.name, kind)
            ? {
                from: from.name,
                to: to.name,
                kind,
                target,
                ok: false,
                error: kind === "pod-icmp" ? "no reply (timeout)" : "connection refused or host unreachable",
              }
            : { from: from.name, to: to.name, kind, target, ok: true, rttMs: 0.3 + i / 10 };
        }),
      ),
  );
}

const SEED_NODES: Node[] = [
  { name: "k8s-master1", internalIP: "10.0.2.15", podCIDR: "10.244.0.0/24", publicIP: "10.0.2.15", probed: true },
  { name: "k8s-node1", internalIP: "10.0.2.15", podCIDR: "10.244.1.0/24", publicIP: "10.0.2.15", probed: true },
];

const vtepDuplicate: Finding = {
  id: "vtep-duplicate-public-ip",
  severity: "critical",
  nodes: ["k8s-master1", "k8s-node1"],
  evidence: [
    "public-ip 10.0.2.15 on k8s-master1 and k8s-node1",
    "k8s-master1 flannel.1: vxlan id 1 local 10.0.2.15 dev enp0s3 dstport 8472",
    "k8s-node1 flannel.1: vxlan id 1 local 10.0.2.15 dev enp0s3 dstport 8472",
    "k8s-master1 FDB: 7a:10:e6:19:89:19 dev flannel.1 dst 10.0.2.15 (a local address of k8s-master1)",
  ],
  explanation:
    "k8s-master1 and k8s-node1 advertise the same VTEP address 10.0.2.15. Each node sends VXLAN packets for a peer's pods to that peer's public-ip; " +
    "when that address is one the sender holds itself, the kernel delivers the packets locally and they never reach the peer.",
  remediations: [],
  trace: {
    from: "k8s-master1",
    to: "k8s-node1",
    hops: [
      { hop: "source pod", ok: true, detail: "pod 10.244.0.2 on k8s-master1, podCIDR 10.244.0.0/24" },
      { hop: "cni0", ok: true, detail: "cni0 on k8s-master1 up, 10.244.0.1/24, MTU 1450" },
      { hop: "route", ok: true, detail: "k8s-master1: 10.244.1.2 → 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink" },
      { hop: "neighbour", ok: true, detail: "k8s-master1: 10.244.1.0 lladdr 7a:10:e6:19:89:19 dev flannel.1", unverified: true },
      { hop: "VXLAN FDB", ok: false, detail: "k8s-master1 FDB: 7a:10:e6:19:89:19 dst 10.0.2.15, an address k8s-master1 holds itself" },
      { hop: "underlay", ok: true, detail: "k8s-master1 → 10.0.2.15 via enp0s3" },
      { hop: "destination pod", ok: true, detail: "pod 10.244.1.2 on k8s-node1" },
    ],
  },
};

const wrongInterface: Finding = {
  id: "vtep-wrong-interface",
  severity: "critical",
  nodes: ["k8s-master1", "k8s-node1"],
  evidence: [
    "k8s-master1 flannel.1: vxlan id 1 local 10.0.2.15 dev enp0s3 dstport 8472",
    "ping 192.168.56.102 from k8s-master1 via enp0s8 (k8s-node1): ok (0.235 ms)",
    "ping 192.168.56.101 from k8s-node1 via enp0s8 (k8s-master1): ok (0.103 ms)",
  ],
  explanation: "flannel's VTEP sits on enp0s3 (NAT, 10.0.2.15 on every node) while enp0s8 reaches every other node.",
  remediations: [
    {
      kind: "patch-flannel-iface",
      summary: "Add --iface=enp0s8 to the kube-flannel container of kube-system/kube-flannel-ds-amd64",
      patch: {
        namespace: "kube-system",
        name: "kube-flannel-ds-amd64",
        ops: [{ op: "add", path: "/spec/template/spec/containers/0/args/-", value: "--iface=enp0s8" }],
      },
      diff: [
        "kube-system/kube-flannel-ds-amd64 container kube-flannel",
        "args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface=enp0s8]",
      ],
      persistent: true,
      risks: ["flannel pods restart one node at a time; cross-node pod traffic pauses for a few seconds on each"],
    },
    {
      kind: "add-routes",
      summary: "Route each remote pod CIDR through the host-only network enp0s8",
      commands: [
        { node: "k8s-master1", argv: ["ip", "route", "replace", "10.244.1.0/24", "via", "192.168.56.102", "dev", "enp0s8"] },
        { node: "k8s-node1", argv: ["ip", "route", "replace", "10.244.0.0/24", "via", "192.168.56.101", "dev", "enp0s8"] },
      ],
      diff: ["k8s-master1: + 10.244.1.0/24 via 192.168.56.102 dev enp0s8", "k8s-node1: + 10.244.0.0/24 via 192.168.56.101 dev enp0s8"],
      persistent: false,
      risks: ["flannel may replace these routes when it restarts"],
    },
  ],
};

const nodePortUnreachable: Finding = {
  id: "nodeport-unreachable",
  severity: "warning",
  nodes: ["k8s-master1"],
  evidence: ["default/nginx-svc NodePort 30309 on k8s-master1 (192.168.56.101:30309) from k8s-node1: connection refused or host unreachable"],
  explanation: "NodePort 30309 of default/nginx-svc answers on k8s-node1 but not on k8s-master1, whose traffic to the backend crosses the broken overlay.",
  remediations: [],
};

export const seedReport: CheckReport = {
  cluster: "cluster-a",
  startedAt: "2026-11-26T06:00:00.000Z",
  durationMs: 4210,
  nodes: SEED_NODES,
  matrix: [
    ...podMatrix(SEED_NODES, () => true),
    { from: "k8s-master1", to: "k8s-node1", kind: "underlay-icmp", target: "192.168.56.102", via: "enp0s8", ok: true, rttMs: 0.235 },
    { from: "k8s-master1", to: "k8s-node1", kind: "nodeport", target: "192.168.56.102:30309", service: "default/nginx-svc", ok: true, rttMs: 14.4 },
    {
      from: "k8s-node1",
      to: "k8s-master1",
      kind: "nodeport",
      target: "192.168.56.101:30309",
      service: "default/nginx-svc",
      ok: false,
      error: "connection refused or host unreachable",
    },
  ],
  // as diagnose() links them: the wrong interface explains the duplicate VTEP and the NodePort
  findings: [{ ...vtepDuplicate, explainedBy: ["vtep-wrong-interface"] }, wrongInterface, { ...nodePortUnreachable, explainedBy: ["vtep-wrong-interface"] }],
};

const HEALTHY_NODES: Node[] = ["node-a", "node-b", "node-c"].map((name, i) => ({
  name,
  internalIP: `192.168.56.${101 + i}`,
  podCIDR: `10.244.${i}.0/24`,
  publicIP: `192.168.56.${101 + i}`,
  probed: true,
}));

export const healthyReport: CheckReport = {
  cluster: "cluster-b",
  startedAt: "2026-11-26T07:00:00.000Z",
  durationMs: 3100,
  nodes: HEALTHY_NODES,
  matrix: podMatrix(HEALTHY_NODES, () => false),
  findings: [
    {
      id: "cluster-healthy",
      severity: "info",
      nodes: [],
      evidence: ["6/6 pod pairs answered ICMP and TCP"],
      explanation: "Every pod agent reached every other pod agent over ICMP and TCP.",
      remediations: [],
    },
  ],
};

const pad2 = (n: number) => String(n).padStart(2, "0");
const BIG_NODES: Node[] = Array.from({ length: 25 }, (_, i) => ({
  name: `node-${pad2(i + 1)}`,
  internalIP: `10.10.0.${i + 11}`,
  podCIDR: `10.244.${i}.0/24`,
  publicIP: `10.10.0.${i + 11}`,
  probed: i !== 24,
  ...(i === 24 ? { error: "exec into xnode-host-agent-9zq4t timed out after 20 s" } : {}),
}));

/** node-07's flannel pod crash-loops: nobody reaches it; node-12 cannot ping node-03 either. */
export const bigReport: CheckReport = {
  cluster: "cluster-big",
  startedAt: "2026-11-26T08:00:00.000Z",
  durationMs: 48_500,
  nodes: BIG_NODES,
  matrix: podMatrix(BIG_NODES, (from, to, kind) => to === "node-07" || (from === "node-12" && to === "node-03" && kind === "pod-icmp")),
  findings: [
    {
      id: "flannel-pod-not-ready",
      severity: "critical",
      nodes: ["node-07"],
      evidence: ["kube-flannel/kube-flannel-ds-x7k2p on node-07: not ready (CrashLoopBackOff), 14 restarts"],
      explanation: "The flannel pod on node-07 is not running, so no other node has a route, neighbour or FDB entry for its pods.",
      remediations: [],
    },
    {
      id: "ip-forward-disabled",
      severity: "critical",
      nodes: ["node-12"],
      evidence: ["node-12: net.ipv4.ip_forward = 0"],
      explanation: "node-12 does not forward between cni0 and flannel.1.",
      remediations: [
        {
          kind: "enable-ip-forward",
          summary: "Set net.ipv4.ip_forward=1 on node-12",
          commands: [{ node: "node-12", argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] }],
          diff: ["node-12: net.ipv4.ip_forward 0 → 1"],
          persistent: false,
          risks: ["a sysctl.d file or a config manager may set it back to 0"],
        },
      ],
    },
  ],
};

const LONG_LINE = (i: number) =>
  `node-03 iptables: -A KUBE-FIREWALL -p udp --dport 8472 -m comment --comment "rule ${String(i).padStart(3, "0")}" -j DROP `.padEnd(150, "x");

export const longEvidenceReport: CheckReport = {
  ...healthyReport,
  cluster: "cluster-c",
  matrix: podMatrix(HEALTHY_NODES, (_from, to) => to === "node-c"),
  findings: [
    {
      id: "udp-vxlan-blocked",
      severity: "critical",
      nodes: ["node-c"],
      evidence: Array.from({ length: 200 }, (_, i) => LONG_LINE(i + 1)),
      explanation: "VXLAN UDP 8472 is dropped on node-c's INPUT chain.",
      remediations: [
        {
          kind: "open-vxlan-port",
          summary: "Accept UDP 8472 from the other nodes on node-c",
          commands: [
            {
              node: "node-c",
              argv: ["iptables", "-I", "INPUT", "1", "-p", "udp", "--dport", "8472", "-m", "comment", "--comment", "xnode: flannel vxlan", "-j", "ACCEPT"],
            },
          ],
          diff: ["node-c INPUT: + -p udp --dport 8472 -j ACCEPT (first)"],
          persistent: false,
          risks: [],
        },
      ],
    },
  ],
};

const SIXTY_NODES: Node[] = Array.from({ length: 60 }, (_, i) => ({
  name: `ip-10-0-${Math.floor(i / 10)}-${10 + i}.eu-west-1.compute.internal`,
  internalIP: `10.0.${Math.floor(i / 10)}.${10 + i}`,
  podCIDR: `10.244.${i}.0/24`,
  publicIP: `10.0.${Math.floor(i / 10)}.${10 + i}`,
  probed: i % 15 !== 14,
  ...(i % 15 === 14 ? { error: `exec into xnode-host-agent-${i}x9 in xnode-system timed out after 20 s (the kubelet on this node did not answer)` } : {}),
}));
const sixty = (i: number) => SIXTY_NODES[i]!.name;
/** Nodes 0-19 lack routes to each other's pod CIDRs; nodes 40-49 drop VXLAN; nodes 55-58 fail for no reason xnode knows. */
const routeless = (name: string) => SIXTY_NODES.findIndex((n) => n.name === name) < 20;
const vxlanDropping = (name: string) => Math.floor(SIXTY_NODES.findIndex((n) => n.name === name) / 10) === 4;
const unexplained = (name: string) => [55, 56, 57, 58].some((i) => sixty(i) === name);

/** A 60-node cluster with failures everywhere: three causes, fixes with a command per node, hundreds of failing pairs. */
export const sixtyNodeReport: CheckReport = {
  cluster: "cluster-sixty",
  startedAt: "2026-11-26T08:00:00.000Z",
  durationMs: 95_000,
  nodes: SIXTY_NODES,
  matrix: podMatrix(SIXTY_NODES, (from, to) => (routeless(from) && routeless(to)) || vxlanDropping(to) || unexplained(from)),
  findings: [
    {
      id: "route-missing",
      severity: "critical",
      nodes: SIXTY_NODES.slice(0, 20).map((n) => n.name),
      evidence: SIXTY_NODES.slice(0, 20).flatMap((n, i) =>
        SIXTY_NODES.slice(0, 20)
          .filter((_, j) => j !== i)
          .map((peer) => `${n.name}: no route for ${peer.podCIDR} (${peer.name}); ip route get ${peer.podCIDR!.replace("0/24", "2")} → via 10.0.0.1 dev eth0`),
      ),
      explanation: "Twenty nodes have no route for the other nodes' pod CIDRs through flannel.1, so their pods' packets leave by the default route.",
      remediations: [
        {
          kind: "add-routes",
          summary: "Add the missing pod CIDR routes through flannel.1 on 20 nodes",
          commands: SIXTY_NODES.slice(0, 20).flatMap((n, i) =>
            SIXTY_NODES.slice(0, 20)
              .filter((_, j) => j !== i)
              .map((peer) => ({
                node: n.name,
                argv: ["ip", "route", "replace", peer.podCIDR!, "via", peer.podCIDR!.replace("/24", ""), "dev", "flannel.1", "onlink"],
              })),
          ),
          diff: SIXTY_NODES.slice(0, 20).map((n) => `${n.name}: + 19 routes via flannel.1`),
          persistent: false,
          risks: ["routes added by hand are lost when flannel restarts or the node reboots"],
        },
      ],
    },
    {
      id: "udp-vxlan-blocked",
      severity: "critical",
      nodes: SIXTY_NODES.slice(40, 50).map((n) => n.name),
      evidence: SIXTY_NODES.slice(40, 50).flatMap((n) => [
        `${n.name} iptables-nft INPUT: -A INPUT -p udp -m udp --dport 8472 -j DROP (rule 3 of 41)`,
        `${n.name}: VXLAN from 59 peers counted at eth0, none at flannel.1`,
      ]),
      explanation: "Ten nodes drop VXLAN (UDP 8472) in their INPUT chain, so nothing reaches their pods from other nodes.",
      remediations: [
        {
          kind: "open-vxlan-port",
          summary: "Accept UDP 8472 from the other nodes before the drop on 10 nodes",
          commands: SIXTY_NODES.slice(40, 50).map((n) => ({
            node: n.name,
            argv: [
              "iptables-nft",
              "-I",
              "INPUT",
              "3",
              "-p",
              "udp",
              "--dport",
              "8472",
              "-s",
              "10.0.0.0/16",
              "-m",
              "comment",
              "--comment",
              "xnode: flannel vxlan",
              "-j",
              "ACCEPT",
            ],
          })),
          diff: SIXTY_NODES.slice(40, 50).map((n) => `${n.name} INPUT: + -p udp --dport 8472 -s 10.0.0.0/16 -j ACCEPT (before rule 3)`),
          persistent: false,
          risks: ["a firewall manager (firewalld, ufw) may rewrite the chain"],
        },
      ],
    },
    {
      id: "connectivity-unexplained",
      severity: "critical",
      nodes: [55, 56, 57, 58].map(sixty),
      evidence: [
        ...[55, 56, 57, 58].map((i) => `${sixty(i)} → ${sixty(0)}: pod-icmp 10.244.0.2 no reply (timeout)`),
        "… 230 more failed probes",
        "no packet capture ran for these pairs: where the packets die is not known",
        ...[55, 56, 57, 58].map((i) => `${sixty(i)}: routes, neighbour and FDB entries for every peer match the Node annotations`),
      ],
      explanation: "Probes from four nodes fail and none of xnode's rules explains why.",
      remediations: [],
    },
  ],
};

/**
 * A cluster of `size` nodes probed as the check samples at scale: each node
 * its next `peers` nodes, the two faulty nodes (one dropping VXLAN, one with
 * FORWARD policy DROP) their full row and column. Every pair with a faulty
 * node fails.
 */
export function sampledReport(size: number, peers = 10): CheckReport {
  const nodes: Node[] = Array.from({ length: size }, (_, i) => ({
    name: `synth-${String(i).padStart(4, "0")}`,
    internalIP: `10.${Math.floor(i / 250)}.${i % 250}.10`,
    podCIDR: `10.${100 + Math.floor(i / 250)}.${i % 250}.0/24`,
    publicIP: `10.${Math.floor(i / 250)}.${i % 250}.10`,
    probed: true,
  }));
  const vxlan = nodes[Math.floor(size / 3)]!.name;
  const forward = nodes[Math.floor((2 * size) / 3)]!.name;
  const faulty = new Set([vxlan, forward]);
  const pairs = new Set<string>();
  const matrix: MatrixEntry[] = [];
  const probe = (from: number, to: number) => {
    if (from === to || pairs.has(`${from}>${to}`)) return;
    pairs.add(`${from}>${to}`);
    const [a, b] = [nodes[from]!.name, nodes[to]!.name];
    const fails = faulty.has(a) || faulty.has(b);
    for (const kind of ["pod-icmp", "pod-tcp"] as const)
      matrix.push(
        fails
          ? { from: a, to: b, kind, target: `10.${100 + Math.floor(to / 250)}.${to % 250}.2`, ok: false, error: "no reply (timeout)" }
          : { from: a, to: b, kind, target: `10.${100 + Math.floor(to / 250)}.${to % 250}.2`, ok: true, rttMs: 0.4 },
      );
  };
  for (let i = 0; i < size; i++) for (let k = 1; k <= peers; k++) probe(i, (i + k) % size);
  for (const name of faulty) {
    const f = nodes.findIndex((n) => n.name === name);
    for (let j = 0; j < size; j++) {
      probe(f, j);
      probe(j, f);
    }
  }
  const others = size - 1;
  return {
    cluster: `synth-${size}`,
    startedAt: "2026-12-01T09:00:00.000Z",
    durationMs: 8_400,
    nodes,
    matrix,
    findings: [
      {
        id: "udp-vxlan-blocked",
        severity: "critical",
        nodes: [vxlan],
        evidence: [
          `${vxlan} iptables-nft INPUT: -A INPUT -p udp -m udp --dport 8472 -j DROP (rule 1 of 12)`,
          `${vxlan}: VXLAN from ${others} peers counted at eth0, none at flannel.1`,
        ],
        explanation: `${vxlan} drops VXLAN (UDP 8472) in its INPUT chain, so nothing reaches its pods from the other ${others} nodes.`,
        remediations: [
          {
            kind: "open-vxlan-port",
            summary: `Accept UDP 8472 before the drop on ${vxlan}`,
            commands: [{ node: vxlan, argv: ["iptables-nft", "-I", "INPUT", "1", "-p", "udp", "--dport", "8472", "-j", "ACCEPT"] }],
            diff: [`${vxlan} INPUT: + -A INPUT -p udp --dport 8472 -j ACCEPT (before rule 1)`],
            persistent: false,
            risks: ["a firewall manager on the node may remove the rule"],
          },
        ],
      },
      {
        id: "forward-policy-drop",
        severity: "critical",
        nodes: [forward],
        evidence: [`${forward} iptables-nft filter FORWARD: policy DROP, no rule accepts 10.100.0.0/14`],
        explanation: `${forward} drops forwarded pod traffic: its FORWARD chain's policy is DROP and no rule accepts the pod network.`,
        remediations: [
          {
            kind: "set-forward-accept",
            summary: `Accept pod traffic in FORWARD on ${forward}`,
            commands: [{ node: forward, argv: ["iptables-nft", "-A", "FORWARD", "-s", "10.100.0.0/14", "-j", "ACCEPT"] }],
            diff: [`${forward} FORWARD: + -A FORWARD -s 10.100.0.0/14 -j ACCEPT`],
            persistent: false,
            risks: ["a firewall manager on the node may set the policy back"],
          },
        ],
      },
    ],
  };
}

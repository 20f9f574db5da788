// The clusters the diagnosis tests run against: the seed, a healthy lab, one
// scenario per single cause, and clusters that differ from the seed in every
// name and address. Each returns fresh evidence the test may change.
import type { CheckEvidence, MatrixKind } from "../../src/model/index.js";
import { iptablesProbe } from "../../src/probes/iptables.js";
import { buildEvidence, freshNodeIptables, host, type ClusterSpec } from "./fixture-builder.js";

const involves = (node: string) => (_kind: MatrixKind, from: string, to: string) => from === node || to === node;
const between = (a: string, b: string) => (_kind: MatrixKind, from: string, to: string) => (from === a && to === b) || (from === b && to === a);

export function seedVirtualboxNat(): CheckEvidence {
  return buildEvidence({
    cluster: "seed-virtualbox-nat",
    networks: [{ name: "nat-1", gateway: "10.0.2.2" }, { name: "nat-2", gateway: "10.0.2.2" }, { name: "hostonly" }],
    nodes: [
      {
        name: "k8s-master1",
        podCIDR: "10.244.0.0/24",
        interfaces: [
          { name: "enp0s3", network: "nat-1", address: "10.0.2.15/24" },
          { name: "enp0s8", network: "hostonly", address: "192.168.56.101/24" },
        ],
      },
      {
        name: "k8s-node1",
        podCIDR: "10.244.1.0/24",
        interfaces: [
          { name: "enp0s3", network: "nat-2", address: "10.0.2.15/24" },
          { name: "enp0s8", network: "hostonly", address: "192.168.56.102/24" },
        ],
      },
    ],
    flannel: { namespace: "kube-system", daemonSet: "kube-flannel-ds-amd64", network: "10.244.0.0/16", args: ["--ip-masq", "--kube-subnet-mgr"] },
    services: [{ name: "nginx-svc", node: "k8s-node1", nodePort: 30309 }],
    // every cross-node pod check goes through flannel.1 to 10.0.2.15, i.e. back to the sender
    fails: (kind) => kind !== "nodeport",
  });
}

/** Three nodes on one flat network, flannel VXLAN working: other fixtures and tests rebuild it with failures or changes. */
export const healthySpec = (overrides: Partial<ClusterSpec> = {}): ClusterSpec => ({
  cluster: "healthy-three-nodes",
  networks: [{ name: "lan", gateway: "172.31.10.1" }],
  nodes: ["cp-0", "worker-0", "worker-1"].map((name, i) => ({
    name,
    podCIDR: `10.42.${i}.0/24`,
    interfaces: [{ name: "eth0", network: "lan", address: `172.31.10.${10 + i}/24` }],
  })),
  flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "10.42.0.0/16", args: ["--ip-masq", "--kube-subnet-mgr"] },
  ...overrides,
});

export const healthyThreeNodes = () => buildEvidence(healthySpec());

export function vxlanPortBlocked(): CheckEvidence {
  return buildEvidence({
    cluster: "vxlan-port-blocked",
    networks: [{ name: "lan", gateway: "192.168.100.1" }],
    nodes: ["master", "worker-a", "worker-b"].map((name, i) => ({
      name,
      podCIDR: `10.244.${i}.0/24`,
      interfaces: [{ name: "ens160", network: "lan", address: `192.168.100.${10 + i}/24` }],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "10.244.0.0/16", args: ["--ip-masq", "--kube-subnet-mgr"] },
    iptables: (node) =>
      freshNodeIptables("10.244.0.0/16").replace(
        "-A INPUT -j KUBE-FIREWALL\n",
        node.name === "worker-b" ? "-A INPUT -j KUBE-FIREWALL\n-A INPUT -p udp -m udp --dport 8472 -j DROP\n" : "-A INPUT -j KUBE-FIREWALL\n",
      ),
    // VXLAN into worker-b is dropped: requests to it and replies to it alike
    fails: involves("worker-b"),
  });
}

/** Pod traffic through worker-1 is not forwarded; worker-1's host reaching other pods needs no forwarding on it. */
const notForwardedBy = (node: string) => (kind: MatrixKind, from: string, to: string) =>
  (from === node || to === node) && !(kind === "node-pod-icmp" && from === node);

export function forwardPolicyDrop(): CheckEvidence {
  return buildEvidence(
    healthySpec({
      iptables: (node) => {
        const text = freshNodeIptables("10.42.0.0/16");
        return node.name !== "worker-1"
          ? text
          : text.replace(":FORWARD ACCEPT [0:0]", ":FORWARD DROP [0:0]").replace('-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n', "");
      },
      fails: notForwardedBy("worker-1"),
    }),
  );
}

export function ipForwardDisabled(): CheckEvidence {
  const ev = buildEvidence(healthySpec({ fails: notForwardedBy("worker-1") }));
  host(ev, "worker-1").sysctls = { ipForward: 0, rpFilterAll: 0 };
  return ev;
}

/** eth0 of worker-1 lowered to 1400 after flannel set flannel.1 to 1450: pings still pass. */
export function mtuMismatch(): CheckEvidence {
  const ev = healthyThreeNodes();
  host(ev, "worker-1").interfaces!.find((i) => i.name === "eth0")!.mtu = 1400;
  return ev;
}

export function routeMissing(): CheckEvidence {
  const ev = buildEvidence(healthySpec({ fails: between("cp-0", "worker-0") }));
  const h = host(ev, "cp-0");
  h.routes = h.routes!.filter((r) => r.dst !== "10.42.1.0/24");
  return ev;
}

/** worker-0 sends worker-1's VXLAN traffic to an address nobody holds. */
export function staleFdb(): CheckEvidence {
  const ev = buildEvidence(healthySpec({ fails: between("worker-0", "worker-1") }));
  const mac = ev.snapshot.nodes.find((n) => n.name === "worker-1")!.flannel.vtepMac!;
  host(ev, "worker-0").fdb!.find((e) => e.mac === mac)!.dst = "172.31.10.254";
  return ev;
}

export function podCidrMissing(): CheckEvidence {
  const spec = healthySpec();
  delete spec.nodes[2]!.podCIDR;
  const ev = buildEvidence(spec);
  Object.assign(ev.snapshot.flannel.pods[2]!, { ready: false, restarts: 6, reason: "CrashLoopBackOff" });
  return ev;
}

export function flannelPodNotReady(): CheckEvidence {
  const ev = healthyThreeNodes();
  Object.assign(ev.snapshot.flannel.pods[1]!, { ready: false, restarts: 4, reason: "CrashLoopBackOff" });
  return ev;
}

/** A host firewall rule on worker-0 drops its NodePort before kube-proxy's DNAT (as the lab does); pods are fine. */
export function nodePortDropped(): CheckEvidence {
  const mangle = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 30080 -j DROP\nCOMMIT\n";
  return buildEvidence(
    healthySpec({
      services: [{ name: "web", node: "worker-1", nodePort: 30080 }],
      iptables: (node) => freshNodeIptables("10.42.0.0/16") + (node.name === "worker-0" ? mangle : ""),
      // the node's own connections skip PREROUTING, so worker-0 still reaches its own NodePort
      fails: (kind, from, to) => kind === "nodeport" && to === "worker-0" && from !== "worker-0",
    }),
  );
}

/** A node as Docker leaves it: FORWARD policy DROP, Docker's chains, kube-proxy's and flannel's. */
const dockerNodeIptables = (network: string) =>
  freshNodeIptables(network)
    .replace(":FORWARD ACCEPT [0:0]", ":FORWARD DROP [0:0]\n:DOCKER - [0:0]\n:DOCKER-USER - [0:0]\n:DOCKER-ISOLATION-STAGE-1 - [0:0]\n:KUBE-FORWARD - [0:0]")
    .replace(
      '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n',
      [
        "-A FORWARD -j DOCKER-USER",
        "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
        "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A FORWARD -o docker0 -j DOCKER",
        "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
        "-A DOCKER-USER -j RETURN",
        "-A DOCKER-ISOLATION-STAGE-1 -j RETURN",
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        "",
      ].join("\n"),
    );

/**
 * Nothing like the seed: three nodes whose eth0 (default route, each behind
 * its own uplink) cannot reach the others, while eth1 on a backplane can.
 * flannel was even told --iface eth0 (space form). Docker-style iptables, a docker0.
 */
export function wrongInterfaceBackplane(): CheckEvidence {
  const ev = buildEvidence({
    cluster: "edge-backplane",
    networks: [
      { name: "wan-a", gateway: "203.0.113.1" },
      { name: "wan-b", gateway: "203.0.113.1" },
      { name: "wan-c", gateway: "203.0.113.1" },
      { name: "backplane" },
    ],
    nodes: ["a", "b", "c"].map((x, i) => ({
      name: `edge-${x}`,
      podCIDR: `172.20.${i}.0/24`,
      interfaces: [
        { name: "eth0", network: `wan-${x}`, address: `203.0.113.${10 + i}/24` },
        { name: "eth1", network: "backplane", address: `10.77.0.${21 + i}/24`, mtu: 9000 },
      ],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "172.20.0.0/16", args: ["--ip-masq", "--kube-subnet-mgr", "--iface", "eth0"] },
    iptables: () => dockerNodeIptables("172.20.0.0/16"),
    fails: () => true,
  });
  for (const h of ev.hosts) {
    h.interfaces!.push({
      name: "docker0",
      index: 40,
      mtu: 1500,
      up: false,
      carrier: false,
      mac: "02:42:9d:1c:7e:33",
      kind: "bridge",
      addresses: [{ address: "172.17.0.1", prefixLength: 16 }],
    });
    h.routes!.push({ dst: "172.17.0.0/16", dev: "docker0", onlink: false, protocol: "kernel", scope: "link", prefsrc: "172.17.0.1" });
  }
  return ev;
}

/** VirtualBox-like NAT on three VMs whose interface names all differ: only a regex of the shared subnet selects the right one. */
export function natWithDifferentInterfaceNames(): CheckEvidence {
  const names = [
    ["enp0s3", "enp0s8"],
    ["eth0", "eth1"],
    ["ens33", "ens34"],
  ] as const;
  return buildEvidence({
    cluster: "mixed-vms",
    networks: [{ name: "nat-0", gateway: "10.0.2.2" }, { name: "nat-1", gateway: "10.0.2.2" }, { name: "nat-2", gateway: "10.0.2.2" }, { name: "lab" }],
    nodes: names.map(([nat, lab], i) => ({
      name: `vm-${i}`,
      podCIDR: `10.244.${i}.0/24`,
      interfaces: [
        { name: nat, network: `nat-${i}`, address: "10.0.2.15/24" },
        { name: lab, network: "lab", address: `10.20.30.${11 + i}/24` },
      ],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "10.244.0.0/16", args: ["--ip-masq", "--kube-subnet-mgr"] },
    fails: () => true,
  });
}

export const unreachableWorker = () => buildEvidence(healthySpec({ unreachable: ["worker-1"] }));

/** Probes that failed on two nodes; the data plane itself is fine. */
export function missingEvidence(): CheckEvidence {
  const ev = healthyThreeNodes();
  const cp = host(ev, "cp-0");
  delete cp.iptablesBackends;
  delete cp.fdb;
  delete cp.neighbours;
  cp.errors.push({ probe: "iptables-legacy", message: "iptables-legacy failed on host agent on cp-0: iptables-legacy-save: not found" });
  cp.errors.push({ probe: "iptables-nft", message: "iptables-nft failed on host agent on cp-0: iptables-nft-save: not found" });
  delete host(ev, "worker-0").routes;
  delete host(ev, "worker-0").vxlan;
  return ev;
}

export const parseIptables = (text: string) => iptablesProbe.parse(text, undefined);

// Turns a scenario into network namespaces: one per L2 network (a bridge, and
// the gateway address if the network has one), one per node (the scenario's
// interfaces as veths onto those bridges, cni0, kube-proxy NodePort rules) and
// one per pod (eth0 on cni0, an HTTP responder). Nothing is ever created in
// the host namespace, and no lab namespace is connected to it.
import type { Scenario } from "../scenario.js";
import { ipBatch, run } from "./exec.js";
import { addressOf, hostAddress, parseCidr } from "./ipv4.js";
import { installNodePorts, type NodePortBackend } from "./kube-proxy.js";
import { assertLabPrefix, labPrefixOf, linkIndex, linkName, netnsName, podName } from "./names.js";
import { startResponder } from "./responder.js";
import { writeSysctls } from "./sysctl.js";

export interface LabTopology {
  prefix: string;
  /**
   * podNetns, podIP and cni0IP are "" for a node without podCIDR: the CNI
   * cannot start pods there, so the node has no cni0 and no pod agent.
   */
  nodes: Record<string, { netns: string; internalIP: string; podNetns: string; podIP: string; cni0IP: string; podCIDR?: string }>;
  networks: Record<string, { netns: string }>;
  services: Record<string, { netns: string; podIP: string; node: string; port: number; nodePort: number }>;
}

/** Port of the pod agent's HTTP responder. */
export const POD_AGENT_PORT = 8080;
/** MTU of cni0 and pod eth0 until flannel setup sets the overlay's MTU (FLANNEL_MTU of a VXLAN node on a 1500 underlay). */
const INITIAL_POD_MTU = 1450;
const DEFAULT_IFACE_MTU = 1500;

/** Node namespace defaults; the node's `sysctl` map overrides them. */
const NODE_SYSCTL_DEFAULTS = {
  "net.ipv4.ip_forward": 1,
  "net.ipv4.conf.all.rp_filter": 0,
  "net.ipv4.conf.default.rp_filter": 0,
};

interface PodPlan {
  netns: string;
  ip: string;
  /** position on the node (0 = pod agent): names and numbers its host-side veth */
  slot: number;
  pod: string;
  port: number;
}

/** Names and addresses of the whole lab; pure, so any process can rebuild it from the scenario. */
function planLab(s: Scenario, prefix: string) {
  assertLabPrefix(prefix);
  const topo: LabTopology = { prefix, nodes: {}, networks: {}, services: {} };
  const podsByNode = new Map<string, PodPlan[]>();

  for (const net of s.networks) topo.networks[net.name] = { netns: netnsName.network(prefix, net.name) };

  for (const node of s.nodes) {
    const route = node.interfaces.find((f) => f.defaultRoute) ?? node.interfaces[0];
    if (!route) throw new Error(`node ${node.name} has no interface`);
    const pods: PodPlan[] = [];
    if (node.podCIDR) {
      pods.push({
        netns: netnsName.agentPod(prefix, node.name),
        ip: hostAddress(node.podCIDR, 2),
        slot: 0,
        pod: podName.agent(node.name),
        port: POD_AGENT_PORT,
      });
    }
    podsByNode.set(node.name, pods);
    topo.nodes[node.name] = {
      netns: netnsName.node(prefix, node.name),
      internalIP: addressOf(route.address),
      podNetns: pods[0]?.netns ?? "",
      podIP: pods[0]?.ip ?? "",
      cni0IP: node.podCIDR ? hostAddress(node.podCIDR, 1) : "",
      ...(node.podCIDR ? { podCIDR: node.podCIDR } : {}),
    };
  }

  for (const svc of s.services) {
    const podCIDR = topo.nodes[svc.node]?.podCIDR;
    const pods = podsByNode.get(svc.node);
    if (!podCIDR || !pods) throw new Error(`service ${svc.name}: node ${svc.node} has no podCIDR, so it cannot run the service's pod`);
    const pod: PodPlan = {
      netns: netnsName.servicePod(prefix, svc.node, svc.name),
      ip: hostAddress(podCIDR, pods.length + 2),
      slot: pods.length,
      pod: podName.service(svc.name, svc.node),
      port: svc.port,
    };
    pods.push(pod);
    topo.services[svc.name] = { netns: pod.netns, podIP: pod.ip, node: svc.node, port: svc.port, nodePort: svc.nodePort };
  }
  return { topo, podsByNode };
}

/** The topology buildTopology creates (or created) for this scenario and prefix, without touching the system. */
export function describeTopology(s: Scenario, prefix: string): LabTopology {
  return planLab(s, prefix).topo;
}

/** Every namespace of the lab, listed by the kernel (so it also finds leftovers of a crashed run). */
async function labNamespaces(prefix?: string): Promise<string[]> {
  const { stdout } = await run(["ip", "netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((ns) => {
      const owner = labPrefixOf(ns);
      return owner !== undefined && (prefix === undefined || owner === prefix);
    });
}

export async function listLabPrefixes(): Promise<string[]> {
  return [...new Set((await labNamespaces()).flatMap((ns) => labPrefixOf(ns) ?? []))].sort();
}

export async function buildTopology(s: Scenario, prefix: string): Promise<LabTopology> {
  const { topo, podsByNode } = planLab(s, prefix);
  if ((await labNamespaces(prefix)).length > 0) throw new Error(`lab prefix ${prefix} is in use: destroy it first`);
  try {
    await createNamespaces(s, topo, podsByNode);
    return topo;
  } catch (err) {
    await destroyTopology(prefix);
    throw err;
  }
}

async function createNamespaces(s: Scenario, topo: LabTopology, podsByNode: Map<string, PodPlan[]>): Promise<void> {
  const allPods = [...podsByNode.values()].flat();
  const all = [...Object.values(topo.networks).map((n) => n.netns), ...Object.values(topo.nodes).map((n) => n.netns), ...allPods.map((p) => p.netns)];
  await Promise.all(all.map((ns) => run(["ip", "netns", "add", ns])));

  // Bridges first (node veths attach to them later); node sysctls before the
  // node's interfaces exist, so conf.default.* applies to them.
  await Promise.all([
    ...s.networks.map((net) => {
      const { prefix: len } = parseCidr(net.cidr);
      const br = linkName.networkBridge;
      return ipBatch(topo.networks[net.name]!.netns, [
        ["link", "set", "lo", "up"],
        ["link", "add", br, "type", "bridge"],
        ...(net.gateway ? [["address", "add", `${net.gateway}/${len}`, "dev", br]] : []),
        ["link", "set", br, "up"],
      ]);
    }),
    ...s.nodes.map((node) => writeSysctls(topo.nodes[node.name]!.netns, NODE_SYSCTL_DEFAULTS)),
  ]);

  // Node interfaces: each veth is born in the node namespace with its peer
  // already in the network (or pod) namespace, so the host never holds one.
  await Promise.all(
    s.nodes.map((node, nodeIndex) => {
      const nodeNs = topo.nodes[node.name]!;
      const cmds: string[][] = [["link", "set", "lo", "up"]];
      node.interfaces.forEach((f, ifaceIndex) => {
        const mtu = String(f.mtu ?? DEFAULT_IFACE_MTU);
        const peerNs = topo.networks[f.network]!.netns;
        const peer = linkName.networkPort(nodeIndex, ifaceIndex);
        cmds.push(
          [
            "link",
            "add",
            f.name,
            "index",
            String(linkIndex.nodeIface(ifaceIndex)),
            "mtu",
            mtu,
            "type",
            "veth",
            "peer",
            "name",
            peer,
            "index",
            String(linkIndex.networkPort(nodeIndex, ifaceIndex)),
            "mtu",
            mtu,
            "netns",
            peerNs,
          ],
          ["address", "add", f.address, "dev", f.name],
          ...(f.extraAddresses ?? []).map((a) => ["address", "add", a, "dev", f.name]),
          ["link", "set", f.name, "up"],
        );
      });
      if (node.podCIDR) {
        const mtu = String(INITIAL_POD_MTU);
        const br = linkName.podBridge;
        cmds.push(["link", "add", br, "type", "bridge"]);
        for (const pod of podsByNode.get(node.name) ?? []) {
          const veth = linkName.podHostVeth(pod.slot);
          cmds.push(
            [
              "link",
              "add",
              veth,
              "index",
              String(linkIndex.podHostVeth(pod.slot)),
              "mtu",
              mtu,
              "type",
              "veth",
              "peer",
              "name",
              linkName.podEth,
              "mtu",
              mtu,
              "netns",
              pod.netns,
            ],
            ["link", "set", veth, "master", br, "up"],
          );
        }
        cmds.push(
          ["link", "set", br, "mtu", mtu],
          ["address", "add", `${nodeNs.cni0IP}/${parseCidr(node.podCIDR).prefix}`, "dev", br],
          ["link", "set", br, "up"],
        );
      }
      const route = node.interfaces.find((f) => f.defaultRoute);
      if (route) {
        const gateway = s.networks.find((n) => n.name === route.network)?.gateway;
        cmds.push(gateway ? ["route", "add", "default", "via", gateway, "dev", route.name] : ["route", "add", "default", "dev", route.name]);
      }
      return ipBatch(nodeNs.netns, cmds);
    }),
  );

  const backends: NodePortBackend[] = s.services.map((svc) => ({ name: svc.name, ...topo.services[svc.name]! }));
  await Promise.all([
    // Network ends of the node veths onto the bridge.
    ...s.networks.map((net) => {
      const ports = s.nodes.flatMap((node, nodeIndex) =>
        node.interfaces.flatMap((f, ifaceIndex) => (f.network === net.name ? [linkName.networkPort(nodeIndex, ifaceIndex)] : [])),
      );
      return ipBatch(
        topo.networks[net.name]!.netns,
        ports.map((p) => ["link", "set", p, "master", linkName.networkBridge, "up"]),
      );
    }),
    // Pods: address, default route via cni0, then the responder.
    ...s.nodes.flatMap((node) => {
      const { cni0IP, podCIDR } = topo.nodes[node.name]!;
      if (!podCIDR) return [];
      const len = parseCidr(podCIDR).prefix;
      return (podsByNode.get(node.name) ?? []).map(async (pod) => {
        await ipBatch(pod.netns, [
          ["link", "set", "lo", "up"],
          ["address", "add", `${pod.ip}/${len}`, "dev", linkName.podEth],
          ["link", "set", linkName.podEth, "up"],
          ["route", "add", "default", "via", cni0IP, "dev", linkName.podEth],
        ]);
        await startResponder(pod.netns, pod.port, pod.pod, node.name);
      });
    }),
    // Node sysctl overrides (may name the interfaces created above) and kube-proxy's NodePorts.
    ...s.nodes.map(async (node) => {
      const netns = topo.nodes[node.name]!.netns;
      await writeSysctls(netns, node.sysctl ?? {});
      if (backends.length > 0) await installNodePorts(netns, backends);
    }),
  ]);
  await Promise.all(all.map(waitForLinks));
}

interface LinkState {
  ifname: string;
  operstate: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_slave_data?: { state?: string } };
}

/**
 * Waits (bounded) until every veth of the namespace has carrier and every
 * bridge port forwards: before that, the first packets of a test vanish.
 */
async function waitForLinks(netns: string): Promise<void> {
  let pending: string[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const { stdout } = await run(["ip", "-j", "-d", "-n", netns, "link", "show"]);
    pending = (JSON.parse(stdout) as LinkState[])
      .filter(
        (l) =>
          (l.linkinfo?.info_kind === "veth" && l.operstate !== "UP") ||
          (l.linkinfo?.info_slave_kind === "bridge" && l.linkinfo.info_slave_data?.state !== "forwarding"),
      )
      .map((l) => l.ifname);
    if (pending.length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`links in ${netns} not up after 2 s: ${pending.join(", ")}`);
}

/** Kills every process of the namespace and waits (bounded) until none is left. */
async function killNamespaceProcesses(netns: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { stdout } = await run(["ip", "netns", "pids", netns], { allowFail: true });
    const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`processes in ${netns} survive SIGKILL`);
}

/**
 * Removes every namespace of the lab (and with them their links) after
 * killing their processes. Works from `ip netns list` alone: idempotent, and
 * usable after a crash or from another process.
 */
export async function destroyTopology(prefix: string): Promise<void> {
  assertLabPrefix(prefix);
  const namespaces = await labNamespaces(prefix);
  await Promise.all(namespaces.map(killNamespaceProcesses));
  await Promise.all(namespaces.map((ns) => run(["ip", "netns", "delete", ns], { allowFail: true })));
  const left = await labNamespaces(prefix);
  if (left.length > 0) throw new Error(`could not delete namespaces: ${left.join(", ")}`);
}

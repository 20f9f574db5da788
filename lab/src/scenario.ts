// The lab's scenario file: one YAML file = one small cluster.
// Format: ../shared/lab-scenarios/README.md. Unknown fields are rejected (strict)
// so a typo never silently builds a different cluster than the author meant.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { addressOf, cidrContains } from "./dataplane/ipv4.js";
import { syntheticNodeNames } from "./synthetic/names.js";

const name = z.string().regex(/^[a-z0-9-]+$/, "must match [a-z0-9-]+");
const ifName = z.string().regex(/^[A-Za-z0-9._-]{1,15}$/, "must be a Linux interface name (1-15 chars)");
const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR like 10.0.0.0/24");
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address");

const network = z.object({ name, cidr, gateway: ipv4.optional() }).strict();

const iface = z
  .object({
    name: ifName,
    network: name,
    address: cidr,
    defaultRoute: z.boolean().optional(),
    mtu: z.number().int().min(576).max(9000).optional(),
    // Version 2: secondary addresses (a VIP), added with `ip addr add` after `address`.
    extraAddresses: z.array(cidr).optional(),
  })
  .strict();

// A Kubernetes annotation key: an optional DNS-subdomain prefix and a name.
const annotationKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    "must be an annotation key such as flannel.alpha.coreos.com/public-ip",
  );
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

const node = z
  .object({
    name,
    role: z.enum(["control-plane", "worker"]).default("worker"),
    podCIDR: cidr.optional(),
    interfaces: z.array(iface).min(1),
    sysctl: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    // Version 2: set on the Node before flannel starts (public-ip-overwrite, node-public-ip, k3s.io/node-args, ...).
    annotations: z.record(annotationKey, z.string()).default({}),
  })
  .strict();

/** How flannel is installed (README "Additions (version 2)"); each renders its own objects (src/install/). */
export const DISTRIBUTIONS = ["manifest", "helm", "kubespray", "rke2-canal", "k3s"] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * Where each installation puts its DaemonSet and which flags it starts flanneld with
 * when the scenario gives none: the upstream manifest, flannel's chart, kubespray's
 * template (roles/network_plugin/flannel), rke2-charts' rke2-canal values, k3s (no flags).
 * `fixed`: the installation always uses these names.
 */
const INSTALL_DEFAULTS: Record<Distribution, { namespace: string; daemonSet: string; args: string[]; fixed: boolean }> = {
  manifest: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", args: ["--ip-masq", "--kube-subnet-mgr"], fixed: false },
  helm: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", args: ["--ip-masq", "--kube-subnet-mgr"], fixed: false },
  kubespray: { namespace: "kube-system", daemonSet: "kube-flannel", args: ["--ip-masq", "--kube-subnet-mgr"], fixed: true },
  "rke2-canal": {
    namespace: "kube-system",
    daemonSet: "rke2-canal",
    args: ["--ip-masq", "--kube-subnet-mgr", "--iptables-forward-rules=false", "--ip-blackhole-route"],
    fixed: true,
  },
  k3s: { namespace: "kube-system", daemonSet: "", args: [], fixed: true },
};

/** RKE2's helm controller puts the chart back within seconds; the lab's imitation takes this long unless told otherwise. */
export const RKE2_DEFAULT_REVERT_SECONDS = 2;

const flannelFields = z
  .object({
    distribution: z.enum(DISTRIBUTIONS).default("manifest"),
    namespace: name.optional(),
    daemonSet: name.optional(),
    network: cidr,
    backend: z.enum(["vxlan", "host-gw"]).default("vxlan"),
    vni: z.number().int().min(1).max(16777215).default(1),
    port: z.number().int().min(1).max(65535).default(8472),
    // flanneld's flags (k3s: k3s's own flags such as --flannel-iface=eth1); default: the installation's own.
    args: z.array(z.string()).optional(),
    // Added by this project: put the flags in the container's command after the binary, as some old manifests do.
    flagsInCommand: z.boolean().default(false),
    notReadyOn: z.array(name).default([]),
    updateStrategy: z.enum(["RollingUpdate", "OnDelete"]).default("RollingUpdate"),
    env: z.record(envName, z.string()).default({}),
    netConfKeyCase: z.enum(["upstream", "lower"]).default("upstream"),
    persistentMac: z.boolean().default(true),
    readyBeforeProgrammed: z.boolean().default(false),
    managedBy: z.enum(["none", "helm", "argocd"]).default("none"),
    // default: RKE2_DEFAULT_REVERT_SECONDS for rke2-canal, else 0 (nothing reverts)
    revertAfterSeconds: z.number().min(0).max(3600).optional(),
  })
  .strict();

/** Combinations an installation cannot have, each named by its field. */
function checkInstallation(f: z.infer<typeof flannelFields>, ctx: z.RefinementCtx): void {
  const d = f.distribution;
  const at = (field: string, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  const defaults = INSTALL_DEFAULTS[d];
  if (d === "k3s") {
    for (const field of ["namespace", "daemonSet"] as const)
      if (f[field] !== undefined) at(field, "k3s runs flannel inside k3s: there is no flannel DaemonSet");
    if (f.updateStrategy !== "RollingUpdate") at("updateStrategy", "k3s has no flannel DaemonSet to update");
    if (Object.keys(f.env).length > 0) at("env", "k3s has no flannel container; give k3s flags in args");
    if (f.notReadyOn.length > 0) at("notReadyOn", "k3s has no flannel pods");
    if (f.readyBeforeProgrammed) at("readyBeforeProgrammed", "k3s has no flannel pods");
    const backend = (f.args ?? []).map((a) => /^--flannel-backend=(.*)$/.exec(a)?.[1]).find((v) => v !== undefined);
    if (backend !== undefined && backend !== f.backend) at("args", `--flannel-backend=${backend} disagrees with backend "${f.backend}"`);
  } else if (defaults.fixed) {
    if (f.namespace !== undefined && f.namespace !== defaults.namespace) at("namespace", `${d} always installs flannel in ${defaults.namespace}`);
    if (f.daemonSet !== undefined && f.daemonSet !== defaults.daemonSet) at("daemonSet", `${d}'s flannel DaemonSet is always ${defaults.daemonSet}`);
  }
  if (f.flagsInCommand && d !== "manifest") at("flagsInCommand", `${d} renders its own container command; flagsInCommand is for manifests`);
  if ((d === "rke2-canal" || d === "k3s") && f.managedBy !== "none")
    at("managedBy", `${d} is managed by ${d === "k3s" ? "k3s" : "RKE2's helm controller"} itself`);
  if (d === "k3s" && f.revertAfterSeconds) at("revertAfterSeconds", "k3s has no flannel DaemonSet to revert");
  if (d !== "rke2-canal" && d !== "k3s" && f.managedBy === "none" && f.revertAfterSeconds) {
    at("revertAfterSeconds", "only a manager reverts a DaemonSet: set managedBy to helm or argocd");
  }
}

const flannel = flannelFields.superRefine(checkInstallation).transform((f) => {
  const defaults = INSTALL_DEFAULTS[f.distribution];
  return {
    ...f,
    namespace: f.namespace ?? defaults.namespace,
    daemonSet: f.daemonSet ?? defaults.daemonSet,
    args: f.args ?? [...defaults.args],
    revertAfterSeconds: f.revertAfterSeconds ?? (f.distribution === "rke2-canal" ? RKE2_DEFAULT_REVERT_SECONDS : 0),
  };
});

const l4proto = z.enum(["udp", "tcp"]);
const port = z.number().int().min(1).max(65535);

// Every fault names the namespace it breaks: a `node` (most kinds) or a
// `network` (underlay-drop: the L2 segment between the nodes).
const fault = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("drop-udp"), node: name, port: z.number().int() }).strict(),
  // Added by this project: a host firewall dropping a TCP port from other machines (not from the node itself).
  z.object({ kind: z.literal("drop-tcp"), node: name, port: z.number().int() }).strict(),
  z.object({ kind: z.literal("forward-policy-drop"), node: name }).strict(),
  z.object({ kind: z.literal("sysctl"), node: name, key: z.string(), value: z.string() }).strict(),
  z.object({ kind: z.literal("mtu"), node: name, interface: ifName, mtu: z.number().int() }).strict(),
  z.object({ kind: z.literal("delete-route"), node: name, to: cidr }).strict(),
  z.object({ kind: z.literal("stale-fdb"), node: name, peer: name }).strict(),
  // Version 2 (lab-scenarios/README.md "Additions"):
  // a native nftables table as firewalld's nftables backend makes it (`table inet firewalld`, base chain
  // filter_INPUT or filter_FORWARD at priority filter + 10) dropping `<proto> dport <port>`: invisible to
  // iptables-save (legacy and nft), seen by `nft list ruleset`.
  z.object({ kind: z.literal("nft-drop"), node: name, proto: l4proto, port, hook: z.enum(["input", "forward"]).default("input") }).strict(),
  // the network between the nodes drops it (security group, NSX, switch ACL): an nftables bridge-family table
  // in the network's own namespace, on frames crossing its bridge. Nothing on any node shows it.
  z.object({ kind: z.literal("underlay-drop"), network: name, proto: l4proto, port }).strict(),
  // flanneld writes its rules with iptables-legacy on this node while the nft backend (Docker, firewalld) has
  // FORWARD policy DROP and no rule accepting pod traffic: both hooks run, the nft one drops forwarded pod traffic.
  z.object({ kind: z.literal("iptables-backend-split"), node: name }).strict(),
  // cni0 keeps an address from an old podCIDR (the CNI's "cni0 already has an IP address different from ..."):
  // the connected route to the node's pods is gone, so they cannot be reached from other nodes.
  z.object({ kind: z.literal("cni0-address"), node: name, address: cidr }).strict(),
  // after flannel programmed the node, flannel.1's MAC changes (systemd's MACAddressPolicy=persistent) while
  // the VtepMAC annotation and the peers' neighbour/FDB entries keep the old one.
  z.object({ kind: z.literal("vtep-mac-change"), node: name }).strict(),
]);

// A synthetic cluster (scale): generated nodes answered from a simulated data plane, no namespaces.
const synthetic = z.object({ nodes: z.number().int().min(1).max(10000), execLatencyMs: z.number().int().min(0).max(60000).default(0) }).strict();

const service = z.object({ name, node: name, port: z.number().int().min(1).max(65535), nodePort: z.number().int().min(30000).max(32767) }).strict();

// The ids and fix kinds are the product's (src/model); the lab only checks their form, and
// test/check/scenarios.test.ts that every scenario names ones the product knows.
const kebab = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be a kebab-case id such as udp-vxlan-blocked");
const findingId = kebab;

/** A stale cni0 address is one outside the node's own podCIDR (else nothing is broken). */
function checkCni0Address(
  s: { nodes: { name: string; podCIDR?: string | undefined }[] },
  f: { node: string; address: string },
  i: number,
  ctx: z.RefinementCtx,
): void {
  const podCIDR = s.nodes.find((n) => n.name === f.node)?.podCIDR;
  if (!podCIDR) ctx.addIssue({ code: "custom", path: ["faults", i, "node"], message: `node "${f.node}" has no podCIDR, so it has no cni0` });
  else if (cidrContains(podCIDR, addressOf(f.address))) {
    ctx.addIssue({
      code: "custom",
      path: ["faults", i, "address"],
      message: `${f.address} lies in the node's own podCIDR ${podCIDR}: pick one from an old podCIDR`,
    });
  }
}

export const scenarioSchema = z
  .object({
    name,
    description: z.string().optional(),
    // both omitted (empty) exactly when `synthetic` generates the nodes
    networks: z.array(network).default([]),
    nodes: z.array(node).default([]),
    synthetic: synthetic.optional(),
    flannel,
    faults: z.array(fault).default([]),
    services: z.array(service).default([]),
    expect: z
      .object({
        findings: z.array(findingId).min(1),
        fixedBy: kebab.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const networks = new Set(s.networks.map((n) => n.name));
    const nodes = new Set(s.synthetic ? syntheticNodeNames(s.synthetic.nodes) : s.nodes.map((n) => n.name));
    if (s.synthetic) {
      if (s.networks.length > 0 || s.nodes.length > 0)
        ctx.addIssue({ code: "custom", path: ["synthetic"], message: "a synthetic cluster has no networks or nodes" });
      if (s.services.length > 0) ctx.addIssue({ code: "custom", path: ["services"], message: "a synthetic cluster has no services" });
    } else {
      if (s.networks.length === 0) ctx.addIssue({ code: "custom", path: ["networks"], message: "at least one network (or a synthetic block)" });
      if (s.nodes.length === 0) ctx.addIssue({ code: "custom", path: ["nodes"], message: "at least one node (or a synthetic block)" });
    }
    const dup = (list: string[]) => list.find((v, i) => list.indexOf(v) !== i);
    const dupNet = dup(s.networks.map((n) => n.name));
    if (dupNet) ctx.addIssue({ code: "custom", path: ["networks"], message: `network "${dupNet}" is defined twice` });
    const dupNode = dup(s.nodes.map((n) => n.name));
    if (dupNode) ctx.addIssue({ code: "custom", path: ["nodes"], message: `node "${dupNode}" is defined twice` });
    s.nodes.forEach((n, i) => {
      n.interfaces.forEach((f, j) => {
        if (!networks.has(f.network)) {
          ctx.addIssue({ code: "custom", path: ["nodes", i, "interfaces", j, "network"], message: `unknown network "${f.network}"` });
        }
      });
      const dupIf = dup(n.interfaces.map((f) => f.name));
      if (dupIf) ctx.addIssue({ code: "custom", path: ["nodes", i, "interfaces"], message: `interface "${dupIf}" is defined twice` });
      if (n.interfaces.filter((f) => f.defaultRoute).length > 1) {
        ctx.addIssue({ code: "custom", path: ["nodes", i, "interfaces"], message: "at most one interface may hold the default route" });
      }
    });
    const checkNode = (path: (string | number)[], value: string) => {
      if (!nodes.has(value)) ctx.addIssue({ code: "custom", path, message: `unknown node "${value}"` });
    };
    s.flannel.notReadyOn.forEach((n, i) => checkNode(["flannel", "notReadyOn", i], n));
    const checkNetwork = (path: (string | number)[], value: string) => {
      if (!networks.has(value)) ctx.addIssue({ code: "custom", path, message: `unknown network "${value}"` });
    };
    s.faults.forEach((f, i) => {
      if ("node" in f) checkNode(["faults", i, "node"], f.node);
      if ("network" in f) checkNetwork(["faults", i, "network"], f.network);
      if (f.kind === "stale-fdb") checkNode(["faults", i, "peer"], f.peer);
      if (f.kind === "cni0-address") checkCni0Address(s, f, i, ctx);
      if (f.kind === "vtep-mac-change" && s.flannel.backend !== "vxlan") {
        ctx.addIssue({ code: "custom", path: ["faults", i, "kind"], message: "vtep-mac-change needs the vxlan backend (flannel.1)" });
      }
    });
    s.nodes.forEach((n, i) =>
      n.interfaces.forEach((f, j) => {
        const addresses = [f.address, ...(f.extraAddresses ?? [])].map((a) => a.split("/")[0]);
        const again = addresses.find((a, k) => addresses.indexOf(a) !== k);
        if (again) ctx.addIssue({ code: "custom", path: ["nodes", i, "interfaces", j, "extraAddresses"], message: `address ${again} is given twice` });
      }),
    );
    s.services.forEach((svc, i) => checkNode(["services", i, "node"], svc.node));
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioNode = Scenario["nodes"][number];
export type ScenarioInterface = ScenarioNode["interfaces"][number];
export type ScenarioNetwork = Scenario["networks"][number];
export type ScenarioFault = Scenario["faults"][number];
export type ScenarioService = Scenario["services"][number];

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid scenario ${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ScenarioError";
  }
}

function describeIssue(issue: z.ZodIssue): string {
  const where = issue.path.length ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") return `${where}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return `${where}: ${issue.message}`;
}

/** Validates already-parsed YAML; `file` only labels the error. */
export function parseScenario(data: unknown, file = "<scenario>"): Scenario {
  const result = scenarioSchema.safeParse(data);
  if (!result.success) throw new ScenarioError(file, result.error.issues.map(describeIssue));
  return result.data;
}

export async function loadScenario(file: string): Promise<Scenario> {
  let data: unknown;
  try {
    data = parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new ScenarioError(file, [`cannot read YAML: ${(err as Error).message}`]);
  }
  return parseScenario(data, file);
}

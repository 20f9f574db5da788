// The lab's scenario file: one YAML file = one small cluster.
// Format: ../shared/lab-scenarios/README.md. Unknown fields are rejected (strict)
// so a typo never silently builds a different cluster than the author meant.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

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
  })
  .strict();

const node = z
  .object({
    name,
    role: z.enum(["control-plane", "worker"]).default("worker"),
    podCIDR: cidr.optional(),
    interfaces: z.array(iface).min(1),
    sysctl: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict();

const flannel = z
  .object({
    namespace: name.default("kube-flannel"),
    daemonSet: name.default("kube-flannel-ds"),
    network: cidr,
    backend: z.enum(["vxlan", "host-gw"]).default("vxlan"),
    vni: z.number().int().min(1).max(16777215).default(1),
    port: z.number().int().min(1).max(65535).default(8472),
    args: z.array(z.string()).default(["--ip-masq", "--kube-subnet-mgr"]),
    // Added by this project: put the flags in the container's command after the binary, as some old manifests do.
    flagsInCommand: z.boolean().default(false),
    notReadyOn: z.array(name).default([]),
  })
  .strict();

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
]);

const service = z.object({ name, node: name, port: z.number().int().min(1).max(65535), nodePort: z.number().int().min(30000).max(32767) }).strict();

// The ids and fix kinds are the product's (src/model); the lab only checks their form, and
// test/check/scenarios.test.ts that every scenario names ones the product knows.
const kebab = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be a kebab-case id such as udp-vxlan-blocked");
const findingId = kebab;

export const scenarioSchema = z
  .object({
    name,
    description: z.string().optional(),
    networks: z.array(network).min(1),
    nodes: z.array(node).min(1),
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
    const nodes = new Set(s.nodes.map((n) => n.name));
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
    });
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

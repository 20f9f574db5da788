// What the probes read on one node, as schemas: evidence crosses Redis between
// job steps, and a reader parses it instead of trusting a cast. Diagnosis reads
// only these types.
import { z } from "zod";

export const interfaceAddressSchema = z.object({ address: z.string(), prefixLength: z.number() });
export type InterfaceAddress = z.infer<typeof interfaceAddressSchema>;

export const interfaceInfoSchema = z.object({
  name: z.string(),
  index: z.number(),
  mtu: z.number(),
  /** administratively up (UP flag) */
  up: z.boolean(),
  /** link has carrier (LOWER_UP flag): a veth or NIC whose other end is down has none */
  carrier: z.boolean().optional(),
  mac: z.string().optional(),
  kind: z.string().optional(),
  addresses: z.array(interfaceAddressSchema),
});
export type InterfaceInfo = z.infer<typeof interfaceInfoSchema>;

export const routeEntrySchema = z.object({
  /** "default", a CIDR or a single address */
  dst: z.string(),
  /** absent for unicast; "blackhole", "unreachable", "prohibit", … otherwise */
  type: z.string().optional(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  onlink: z.boolean(),
  protocol: z.string().optional(),
  scope: z.string().optional(),
  prefsrc: z.string().optional(),
});
export type RouteEntry = z.infer<typeof routeEntrySchema>;

export const vxlanDeviceSchema = z.object({
  name: z.string(),
  vni: z.number(),
  local: z.string().optional(),
  /** underlay interface name (`dev` in `ip link add … type vxlan`) */
  underlay: z.string().optional(),
  port: z.number(),
  learning: z.boolean(),
  mtu: z.number(),
  mac: z.string().optional(),
  up: z.boolean(),
});
export type VxlanDevice = z.infer<typeof vxlanDeviceSchema>;

export const fdbEntrySchema = z.object({ mac: z.string(), dev: z.string(), dst: z.string(), permanent: z.boolean() });
export type FdbEntry = z.infer<typeof fdbEntrySchema>;

export const neighbourEntrySchema = z.object({
  dst: z.string(),
  dev: z.string(),
  lladdr: z.string().optional(),
  states: z.array(z.string()),
});
export type NeighbourEntry = z.infer<typeof neighbourEntrySchema>;

export const sysctlValuesSchema = z.object({
  ipForward: z.number().optional(),
  rpFilterAll: z.number().optional(),
  bridgeNfCallIptables: z.number().optional(),
});
export type SysctlValues = z.infer<typeof sysctlValuesSchema>;

export const iptablesRuleSchema = z.object({
  table: z.string(),
  chain: z.string(),
  /** the rule as iptables-save prints it after "-A CHAIN " */
  spec: z.string(),
});
export type IptablesRule = z.infer<typeof iptablesRuleSchema>;

export const iptablesStateSchema = z.object({
  policies: z.array(z.object({ table: z.string(), chain: z.string(), policy: z.string() })),
  rules: z.array(iptablesRuleSchema),
  /**
   * Tables this iptables could not print faithfully (version skew, rules
   * written by nft or a newer iptables): nothing is read from them, neither an
   * accept nor a drop. Absent when every table read.
   */
  unreadable: z.array(z.object({ table: z.string(), reason: z.string() })).optional(),
});
export type IptablesState = z.infer<typeof iptablesStateSchema>;

/** The two iptables backends: both register netfilter hooks, so a packet passes both. */
export const iptablesBackendSchema = z.enum(["legacy", "nft"]);
export type IptablesBackend = z.infer<typeof iptablesBackendSchema>;

/** Each backend read by its own iptables-save; a backend whose probe failed (its tool absent, say) is absent here, never empty. */
export const iptablesBackendsSchema = z.object({ legacy: iptablesStateSchema.optional(), nft: iptablesStateSchema.optional() });
export type IptablesBackends = z.infer<typeof iptablesBackendsSchema>;

// Native nftables (`nft -j list ruleset`): tables, chains, named sets and
// rules as nft prints them. Each rule keeps its JSON statements for the
// evaluator and a one-line text for people. What the parser cannot read is
// kept and marked `unreadable`, never dropped: a rule xnode cannot read
// decides nothing, so a verdict that depends on it is "unknown".
export const nftTableSchema = z.object({ family: z.string(), name: z.string(), handle: z.number(), flags: z.array(z.string()).optional() });
export type NftTable = z.infer<typeof nftTableSchema>;

export const nftChainSchema = z.object({
  family: z.string(),
  table: z.string(),
  name: z.string(),
  handle: z.number(),
  /** base chains only: filter, nat, route */
  type: z.string().optional(),
  /** base chains only: ingress, prerouting, input, forward, output, postrouting */
  hook: z.string().optional(),
  prio: z.number().optional(),
  policy: z.string().optional(),
  /** ingress chains: their devices, when nft prints them (1.0.6 does not) */
  devices: z.array(z.string()).optional(),
  unreadable: z.string().optional(),
});
export type NftChain = z.infer<typeof nftChainSchema>;

export const nftRuleSchema = z.object({
  family: z.string(),
  table: z.string(),
  chain: z.string(),
  handle: z.number(),
  /** the rule's statements exactly as `nft -j` prints them */
  expr: z.array(z.unknown()),
  /** the rule in nft's syntax, one line: `udp dport 8472 drop` */
  text: z.string(),
  comment: z.string().optional(),
  /** why (part of) the rule could not be read: an expression the parser does not know, an iptables extension without its options */
  unreadable: z.string().optional(),
});
export type NftRule = z.infer<typeof nftRuleSchema>;

/** A named set or map (`@name` in rules); `map` is the data type of a map (`verdict` for a verdict map). */
export const nftSetSchema = z.object({
  family: z.string(),
  table: z.string(),
  name: z.string(),
  type: z.union([z.string(), z.array(z.string())]).optional(),
  map: z.string().optional(),
  flags: z.array(z.string()).optional(),
  /** elements as nft prints them: values, prefixes, ranges, concatenations; [key, data] pairs for maps */
  elem: z.array(z.unknown()),
  unreadable: z.string().optional(),
});
export type NftSet = z.infer<typeof nftSetSchema>;

export const nftRulesetSchema = z.object({
  /** nft's version, from its metainfo */
  version: z.string().optional(),
  tables: z.array(nftTableSchema),
  chains: z.array(nftChainSchema),
  sets: z.array(nftSetSchema),
  rules: z.array(nftRuleSchema),
  /** what could not be placed in any table at all, one line each */
  unreadable: z.array(z.string()),
});
export type NftRuleset = z.infer<typeof nftRulesetSchema>;

export const reachKindSchema = z.enum(["icmp", "tcp"]);
export type ReachKind = z.infer<typeof reachKindSchema>;

export const reachTargetSchema = z.object({
  id: z.string(),
  kind: reachKindSchema,
  address: z.string(),
  port: z.number().optional(),
  /** source interface for ICMP (ping -I) */
  iface: z.string().optional(),
});
export type ReachTarget = z.infer<typeof reachTargetSchema>;

export interface ReachResult {
  id: string;
  ok: boolean;
  rttMs?: number;
  /** e.g. "timeout", "connection refused", "exit 2" */
  error?: string;
}

/** Everything read from one node's host agent. A probe that failed leaves its field undefined and an entry in `errors`. */
/**
 * Entries flannel programs on a node for each peer (route, neighbour, FDB),
 * stored once as a template instead of once per peer: a 1,000-node cluster's
 * nodes each hold ~3,000 such entries, which would make a check's evidence
 * quadratic. `{cidr}`, `{gw}`, `{mac}` and `{ip}` stand for the peer's pod
 * CIDR, its network address, its VtepMAC and its public-ip
 * (src/diagnosis/overlay-templates.ts compacts and reads them).
 */
export const overlayTemplateSchema = z.object({
  route: z.string(),
  neighbour: z.string(),
  fdb: z.string(),
  /** the peers whose three entries are exactly these: inclusive ranges of indices into the snapshot's nodes */
  peers: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])),
});
export type OverlayTemplate = z.infer<typeof overlayTemplateSchema>;

export const hostEvidenceSchema = z.object({
  node: z.string(),
  interfaces: z.array(interfaceInfoSchema).optional(),
  routes: z.array(routeEntrySchema).optional(),
  vxlan: z.array(vxlanDeviceSchema).optional(),
  fdb: z.array(fdbEntrySchema).optional(),
  neighbours: z.array(neighbourEntrySchema).optional(),
  sysctls: sysctlValuesSchema.optional(),
  /** one ruleset, as the agent's `iptables-save` printed it (the backend its wrapper picked): evidence of checks before xnode read both backends */
  iptables: iptablesStateSchema.optional(),
  /** iptables-legacy-save and iptables-nft-save, each on its own */
  iptablesBackends: iptablesBackendsSchema.optional(),
  nftables: nftRulesetSchema.optional(),
  /** peers' entries taken out of routes, neighbours and fdb; `takenAt` is the snapshot the indices refer to */
  overlay: z.object({ takenAt: z.string(), templates: z.array(overlayTemplateSchema) }).optional(),
  errors: z.array(z.object({ probe: z.string(), message: z.string() })),
});
export type HostEvidence = z.infer<typeof hostEvidenceSchema>;

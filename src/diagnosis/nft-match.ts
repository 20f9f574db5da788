// What one nftables match (or verdict map) says about one packet: true, false,
// or undefined when it reads something the packet description does not carry
// (marks, rates, routing lookups, sockets …). The packet is the first of its
// flow, not NATed: ct state new, ct status empty, direction original.
import type { NftRuleset, NftSet } from "../model/index.js";
import { isRecord, single } from "../probes/nft-expr.js";
import { cidrContains, parseIpv4 } from "./ipv4.js";

export type NftHook = "ingress" | "prerouting" | "input" | "forward";

export interface NftPacket {
  hook: NftHook;
  l4proto: "udp" | "tcp" | "icmp";
  dport?: number;
  iifname?: string;
  oifname?: string;
  saddr?: string;
  daddr?: string;
}

/** undefined: cannot tell, with `why` */
export type Tri = { holds: boolean } | { holds: undefined; why: string };

type Scalar = string | number;
type Value = Scalar | { flags: string[] } | Value[];
/** the packet has no such header (an IPv6 field of an IPv4 packet): no match, whatever the operator */
type Read = { value: Value } | "absent" | { unknown: string };

export interface MatchContext {
  ruleset: NftRuleset;
  family: string;
  table: string;
  packet: NftPacket;
}

const PROTOCOLS: Record<string, string> = { "1": "icmp", "6": "tcp", "17": "udp" };
const PORT_PROTOCOLS = new Set(["udp", "tcp"]);
/** headers an IPv4 udp/tcp/icmp packet never has */
const OTHER_HEADERS = new Set(["ip6", "icmpv6", "arp", "sctp", "dccp", "udplite", "igmp", "esp", "ah", "comp", "gre", "ipcomp"]);

const known = (value: Value): Read => ({ value });
const unknown = (what: string, detail: string): Read => ({ unknown: `${what}: ${detail}` });

function readPayload(p: NftPacket, r: Record<string, unknown>): Read {
  const proto = String(r.protocol ?? "");
  const field = String(r.field ?? "");
  const what = `${proto} ${field}`;
  if (!("protocol" in r)) return unknown(`@${String(r.base)},${String(r.offset)},${String(r.len)}`, "a raw payload match");
  if (proto === "ip") {
    if (field === "saddr") return p.saddr ? known(p.saddr) : unknown(what, "source address not known");
    if (field === "daddr") return p.daddr ? known(p.daddr) : unknown(what, "destination address not known");
    if (field === "protocol") return known(p.l4proto);
    return unknown(what, "a header field xnode does not model");
  }
  if (OTHER_HEADERS.has(proto)) return "absent";
  if (proto === "udp" || proto === "tcp" || proto === "icmp") {
    if (proto !== p.l4proto) return "absent";
    if (field === "dport" && proto !== "icmp") return p.dport !== undefined ? known(p.dport) : unknown(what, "destination port not known");
    return unknown(what, "a header field xnode does not model");
  }
  if (proto === "th") {
    if (!PORT_PROTOCOLS.has(p.l4proto)) return unknown(what, `no ports in ${p.l4proto}`);
    if (field === "dport") return p.dport !== undefined ? known(p.dport) : unknown(what, "destination port not known");
    return unknown(what, "source port not known");
  }
  return unknown(what, "a header xnode does not model");
}

function readMeta(p: NftPacket, key: string): Read {
  switch (key) {
    case "l4proto":
      return known(p.l4proto);
    case "nfproto":
      return known("ipv4");
    case "protocol":
      return known("ip");
    case "iifname":
    case "iif":
      return p.iifname !== undefined ? known(p.iifname) : unknown(`meta ${key}`, "input interface not known");
    case "oifname":
    case "oif":
      // before routing, and for the node's own packets in input, there is no output interface
      if (p.hook !== "forward") return "absent";
      return p.oifname !== undefined ? known(p.oifname) : unknown(`meta ${key}`, "output interface not known");
    default:
      return unknown(`meta ${key}`, "not something xnode knows of the packet");
  }
}

function readCt(r: Record<string, unknown>): Read {
  if (r.dir !== undefined || r.family !== undefined) return unknown(`ct ${String(r.key)}`, "a per-direction conntrack field");
  if (r.key === "state") return known({ flags: ["new"] });
  if (r.key === "status") return known({ flags: [] });
  if (r.key === "direction") return known("original");
  return unknown(`ct ${String(r.key)}`, "conntrack data xnode does not know");
}

export function readExpr(p: NftPacket, expr: unknown): Read {
  const entry = single(expr);
  if (!entry || (!isRecord(entry[1]) && entry[0] !== "concat")) return unknown(JSON.stringify(expr), "an expression xnode does not read");
  const [key, body] = entry;
  if (key === "concat" && Array.isArray(body)) {
    const parts = body.map((e) => readExpr(p, e));
    if (parts.includes("absent")) return "absent";
    const unread = parts.find((x): x is { unknown: string } => typeof x === "object" && "unknown" in x);
    if (unread) return unread;
    return known(parts.map((x) => (x as { value: Value }).value));
  }
  const r = body as Record<string, unknown>;
  if (key === "payload") return readPayload(p, r);
  if (key === "meta") return readMeta(p, String(r.key));
  if (key === "ct") return readCt(r);
  return unknown(key, "an expression whose value depends on the node's state (routing, sockets, marks)");
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** One value against one element of a match's right side (a value, prefix, range or concatenation). */
function equals(v: Value, item: unknown): boolean | undefined {
  if (isRecord(item) && isRecord(item.elem)) return equals(v, item.elem.val);
  if (Array.isArray(v)) {
    const parts = single(item);
    if (!parts || parts[0] !== "concat" || !Array.isArray(parts[1]) || parts[1].length !== v.length) return undefined;
    const each = v.map((x, i) => equals(x, (parts[1] as unknown[])[i]));
    return each.includes(false) ? false : each.includes(undefined) ? undefined : true;
  }
  if (typeof v === "object") return typeof item === "string" ? v.flags.includes(item) : undefined;
  const entry = single(item);
  if (entry?.[0] === "prefix" && isRecord(entry[1]))
    return typeof v === "string" && parseIpv4(v) !== undefined ? cidrContains(`${String(entry[1].addr)}/${String(entry[1].len)}`, v) : undefined;
  if (entry?.[0] === "range" && Array.isArray(entry[1])) {
    const [lo, hi] = entry[1];
    const n = typeof v === "number" ? v : parseIpv4(v);
    const [a, b] = typeof v === "number" ? [toNumber(lo), toNumber(hi)] : [parseIpv4(String(lo)), parseIpv4(String(hi))];
    return n === undefined || a === undefined || b === undefined ? undefined : n >= a && n <= b;
  }
  if (typeof item === "number" || typeof item === "string") {
    if (typeof v === "number") return toNumber(item) === undefined ? undefined : toNumber(item) === v;
    const name = typeof item === "number" ? (PROTOCOLS[String(item)] ?? String(item)) : item;
    // interface wildcards: iifname "eth*"
    if (name.endsWith("*") && !name.endsWith("\\*")) return v.startsWith(name.slice(0, -1));
    return name === v;
  }
  return undefined;
}

/** The elements a right side stands for: a literal set, a named set (`@nodes`), a flag list, or one value. */
function elementsOf(ctx: MatchContext, right: unknown): { items: unknown[] } | { unknown: string } {
  if (typeof right === "string" && right.startsWith("@")) {
    const set = namedSet(ctx, right.slice(1));
    if (!set) return { unknown: `set ${right} is not in the listing` };
    if (set.unreadable) return { unknown: `set ${right}: ${set.unreadable}` };
    return { items: set.elem };
  }
  const entry = single(right);
  if (entry?.[0] === "set") return { items: Array.isArray(entry[1]) ? entry[1] : [entry[1]] };
  if (Array.isArray(right)) return { items: right };
  return { items: [right] };
}

export function namedSet(ctx: Pick<MatchContext, "ruleset" | "family" | "table">, name: string): NftSet | undefined {
  return ctx.ruleset.sets.find((s) => s.family === ctx.family && s.table === ctx.table && s.name === name);
}

function anyOf(v: Value, items: unknown[]): boolean | undefined {
  const results = items.map((i) => equals(v, i));
  return results.includes(true) ? true : results.includes(undefined) ? undefined : false;
}

export function evalMatch(ctx: MatchContext, op: string, left: unknown, right: unknown): Tri {
  const read = readExpr(ctx.packet, left);
  if (read === "absent") return { holds: false };
  if ("unknown" in read) return { holds: undefined, why: read.unknown };
  const v = read.value;
  if (op === "<" || op === ">" || op === "<=" || op === ">=") {
    const n = toNumber(right);
    if (typeof v !== "number" || n === undefined) return { holds: undefined, why: `comparison ${op} on a value xnode cannot order` };
    return { holds: op === "<" ? v < n : op === ">" ? v > n : op === "<=" ? v <= n : v >= n };
  }
  if (op !== "==" && op !== "!=" && op !== "in") return { holds: undefined, why: `operator ${op}` };
  const elements = elementsOf(ctx, right);
  if ("unknown" in elements) return { holds: undefined, why: elements.unknown };
  const member = anyOf(v, elements.items);
  if (member === undefined) return { holds: undefined, why: "a value xnode cannot compare" };
  return { holds: op === "!=" ? !member : member };
}

/** A verdict map: the element's verdict, none when no element matches (the rule does nothing), or unknown. */
export type VmapResult = { kind: "none" } | { kind: "verdict"; verdict: unknown } | { kind: "unknown"; why: string };

export function evalVmap(ctx: MatchContext, key: unknown, data: unknown): VmapResult {
  const read = readExpr(ctx.packet, key);
  if (read === "absent") return { kind: "none" };
  if ("unknown" in read) return { kind: "unknown", why: read.unknown };
  const elements = elementsOf(ctx, data);
  if ("unknown" in elements) return { kind: "unknown", why: elements.unknown };
  for (const pair of elements.items) {
    if (!Array.isArray(pair) || pair.length !== 2) return { kind: "unknown", why: "a verdict map element xnode cannot read" };
    const hit = equals(read.value, pair[0]);
    if (hit === undefined) return { kind: "unknown", why: "a verdict map key xnode cannot compare" };
    if (hit) return { kind: "verdict", verdict: pair[1] };
  }
  return { kind: "none" };
}

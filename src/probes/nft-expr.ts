// The statements and expressions of a rule as `nft -j` prints them (libnftables
// JSON schema 1, nft(8) "STATEMENTS" / libnftables-json(5)): what kind each
// statement is, and one line of nft syntax for it. Shared by the probe, which
// renders rules, and the evaluator, which walks them.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type NftVerdictName = "accept" | "drop" | "continue" | "return" | "jump" | "goto" | "queue";

export type NftStatement =
  | { kind: "match"; op: string; left: unknown; right: unknown }
  /** reject is a drop that answers: `reject: true` */
  | { kind: "verdict"; verdict: NftVerdictName; target?: string; reject?: boolean }
  | { kind: "vmap"; key: unknown; data: unknown }
  /** counter, log, a mark set, a set update: changes nothing a later match reads that xnode models */
  | { kind: "effect"; name: string }
  /** limit, quota, ct count: matches or not depending on rates and counts xnode cannot see */
  | { kind: "condition"; name: string }
  /** nat, notrack, tproxy, fwd, a payload rewrite: changes the packet or where it goes */
  | { kind: "rewrite"; name: string }
  /** an expression this parser does not know, or an iptables extension printed without its options */
  | { kind: "unknown"; name: string; detail: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The one key of a `{ "key": value }` object, as libnftables prints every statement and expression. */
export function single(value: unknown): [string, unknown] | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 ? [keys[0]!, value[keys[0]!]] : undefined;
}

const VERDICTS = new Set<string>(["accept", "drop", "continue", "return", "jump", "goto", "queue"]);
const EFFECTS = new Set(["counter", "log", "set", "map", "flow", "ct helper", "ct timeout", "ct expectation", "secmark", "dup", "last"]);
const CONDITIONS = new Set(["limit", "quota", "ct count", "meter"]);
const REWRITES = new Set(["snat", "dnat", "masquerade", "redirect", "notrack", "tproxy", "fwd", "synproxy"]);
/** mangle targets that only mark the packet (nothing xnode's matches read) */
const MARK_KEYS = new Set(["mark", "priority", "nftrace", "secmark"]);

export function classifyStatement(stmt: unknown): NftStatement {
  const entry = single(stmt);
  if (!entry) return { kind: "unknown", name: "?", detail: `not a statement: ${JSON.stringify(stmt)}` };
  const [name, body] = entry;
  if (name === "match" && isRecord(body) && typeof body.op === "string" && "left" in body && "right" in body) {
    return { kind: "match", op: body.op, left: body.left, right: body.right };
  }
  if (name === "reject") return { kind: "verdict", verdict: "drop", reject: true };
  if (VERDICTS.has(name)) {
    if (name === "jump" || name === "goto") {
      const target = isRecord(body) && typeof body.target === "string" ? body.target : undefined;
      if (!target) return { kind: "unknown", name, detail: `${name} without a target` };
      return { kind: "verdict", verdict: name, target };
    }
    return { kind: "verdict", verdict: name as NftVerdictName };
  }
  if (name === "vmap" && isRecord(body) && "key" in body && "data" in body) return { kind: "vmap", key: body.key, data: body.data };
  if (name === "mangle" && isRecord(body)) {
    const key = single(body.key);
    const marks = key !== undefined && (key[0] === "meta" || key[0] === "ct") && isRecord(key[1]) && MARK_KEYS.has(String(key[1].key));
    return marks ? { kind: "effect", name: "mark" } : { kind: "rewrite", name: "mangle" };
  }
  if (EFFECTS.has(name)) return { kind: "effect", name };
  if (CONDITIONS.has(name)) return { kind: "condition", name };
  if (REWRITES.has(name)) return { kind: "rewrite", name };
  if (name === "xt") {
    const what = isRecord(body) ? `${String(body.type)} ${String(body.name)}` : "extension";
    return { kind: "unknown", name, detail: `iptables extension (xt ${what}) that nft prints without its options` };
  }
  return { kind: "unknown", name, detail: `statement "${name}" xnode does not read` };
}

/** Keys nft prints without the `meta` prefix. */
const BARE_META = new Set(["iifname", "oifname", "iif", "oif", "iiftype", "oiftype", "iifgroup", "oifgroup", "pkttype", "skuid", "skgid", "cpu", "cgroup"]);
const NAME_KEYS = new Set(["iifname", "oifname", "iif", "oif", "ibrname", "obrname"]);

function isNameExpr(expr: unknown): boolean {
  const e = single(expr);
  return e !== undefined && e[0] === "meta" && isRecord(e[1]) && NAME_KEYS.has(String(e[1].key));
}

/** An expression in nft's syntax; `quote` writes strings in "…" (interface names). */
export function renderExpr(expr: unknown, quote = false): string {
  if (expr === null) return "null";
  if (typeof expr === "string") return quote && !expr.startsWith("@") ? JSON.stringify(expr) : expr;
  if (typeof expr === "number") return String(expr);
  if (typeof expr === "boolean") return expr ? "exists" : "missing";
  // a flag list: `ct state established,related`
  if (Array.isArray(expr)) return expr.map((e) => renderExpr(e, quote)).join(",");
  const entry = single(expr);
  if (!entry) return JSON.stringify(expr);
  const [key, v] = entry;
  const r = isRecord(v) ? v : {};
  switch (key) {
    case "set":
      return `{ ${(Array.isArray(v) ? v : [v]).map((e) => (Array.isArray(e) && e.length === 2 ? `${renderExpr(e[0], quote)} : ${renderVerdictOrExpr(e[1])}` : renderExpr(e, quote))).join(", ")} }`;
    case "elem":
      return renderExpr(r.val, quote);
    case "prefix":
      return `${renderExpr(r.addr)}/${renderExpr(r.len)}`;
    case "range":
      return Array.isArray(v) ? `${renderExpr(v[0], quote)}-${renderExpr(v[1], quote)}` : JSON.stringify(expr);
    case "concat":
      return Array.isArray(v) ? v.map((e) => renderExpr(e, quote)).join(" . ") : JSON.stringify(expr);
    case "payload":
      return "protocol" in r ? `${String(r.protocol)} ${String(r.field)}` : `@${String(r.base)},${String(r.offset)},${String(r.len)}`;
    case "meta":
      return BARE_META.has(String(r.key)) ? String(r.key) : `meta ${String(r.key)}`;
    case "ct":
      return `ct ${[r.dir, r.family, r.key]
        .filter((p) => p !== undefined)
        .map(String)
        .join(" ")}`;
    case "fib":
      return `fib ${(Array.isArray(r.flags) ? r.flags : [r.flags]).map(String).join(" . ")} ${String(r.result)}`;
    case "&":
    case "|":
    case "^":
    case "<<":
    case ">>":
      if (!Array.isArray(v)) return JSON.stringify(expr);
      // a flag mask: `tcp flags & (syn|ack)`
      return `${renderExpr(v[0])} ${key} ${Array.isArray(v[1]) ? `(${v[1].map((e) => renderExpr(e)).join("|")})` : renderExpr(v[1])}`;
    case "rt":
    case "socket":
    case "osf":
    case "ipsec":
      return `${key} ${String(r.key ?? r.name ?? "")}`.trim();
    case "exthdr":
    case "tcp option":
      return `${key} ${String(r.name)}${r.field !== undefined ? ` ${String(r.field)}` : ""}`;
    default:
      return JSON.stringify(expr);
  }
}

function renderVerdictOrExpr(v: unknown): string {
  const s = classifyStatement(v);
  return s.kind === "verdict" ? renderStatement(v) : renderExpr(v);
}

function options(r: Record<string, unknown>, keys: readonly string[]): string {
  return keys
    .flatMap((k) => (r[k] === undefined ? [] : [`${k} ${typeof r[k] === "string" && k === "prefix" ? JSON.stringify(r[k]) : renderExpr(r[k])}`]))
    .join(" ");
}

/** One statement in nft's syntax: `udp dport 8472`, `reject with icmpx admin-prohibited`, `jump filter_INPUT_ZONES`. */
export function renderStatement(stmt: unknown): string {
  const entry = single(stmt);
  if (!entry) return JSON.stringify(stmt);
  const [key, v] = entry;
  const r = isRecord(v) ? v : {};
  switch (key) {
    case "match": {
      const quote = isNameExpr(r.left);
      const op = r.op === "==" || r.op === "in" ? "" : ` ${String(r.op)}`;
      return `${renderExpr(r.left)}${op} ${renderExpr(r.right, quote)}`;
    }
    case "jump":
    case "goto":
      return `${key} ${String(r.target)}`;
    case "reject":
      return v === null ? "reject" : `reject with ${String(r.type)}${r.expr !== undefined ? ` ${String(r.expr)}` : ""}`;
    case "vmap":
      return `${renderExpr(r.key)} vmap ${renderExpr(r.data, isNameExpr(r.key))}`;
    case "counter":
      return typeof v === "string" ? `counter name ${JSON.stringify(v)}` : "counter";
    case "log":
      return `log ${options(r, ["prefix", "level", "group"])}`.trim();
    case "limit":
      return `limit rate ${r.inv ? "over " : ""}${String(r.rate)}${r.rate_unit && r.rate_unit !== "packets" ? ` ${String(r.rate_unit)}` : ""}/${String(r.per)}`;
    case "quota":
      return `quota ${r.inv ? "over " : ""}${String(r.val)} ${String(r.val_unit ?? "bytes")}`;
    case "mangle":
      return `${renderExpr(r.key)} set ${renderExpr(r.value)}`;
    case "snat":
    case "dnat":
      return `${key}${r.addr !== undefined ? ` to ${renderExpr(r.addr)}` : ""}${r.port !== undefined ? `:${renderExpr(r.port)}` : ""}`;
    case "masquerade":
    case "redirect":
      return `${key}${r.port !== undefined ? ` to :${renderExpr(r.port)}` : ""}`;
    case "xt":
      return `xt ${String(r.type)} ${String(r.name)}`;
    case "set":
      return `${String(r.op)} ${String(r.set)} { ${renderExpr(r.elem)} }`;
    default:
      return v === null ? key : `${key} ${renderExpr(v)}`;
  }
}

/** The whole rule, as one line. */
export function renderRule(expr: readonly unknown[]): string {
  return expr.map(renderStatement).join(" ");
}

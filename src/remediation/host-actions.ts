// The host-agent commands xnode knows how to run, verify and undo, parsed
// from a plan's argv. Anything else is refused before it runs: a command we
// cannot verify or roll back is not one we apply on someone's node.
import { z } from "zod";
import { XnodeError } from "../errors.js";
import { parseNftAction, type NftAction } from "./nft-actions.js";

/**
 * The iptables commands xnode runs: the agent's `iptables` (its wrapper picks
 * a backend), or one backend's own tool. Whatever one command names, its
 * verification, fingerprint and rollback name too.
 */
export const IPTABLES_TOOLS = ["iptables", "iptables-legacy", "iptables-nft"] as const;
export type IptablesTool = (typeof IPTABLES_TOOLS)[number];

/** Which iptables edits a ruleset: `tool` absent is plain `iptables`; `wait` is `-w [seconds]` (wait for the xtables lock). */
export interface IptablesVia {
  tool?: Exclude<IptablesTool, "iptables">;
  wait?: true | number;
}

export type HostAction =
  | { kind: "route"; verb: "replace" | "del"; dst: string; via?: string; dev?: string; onlink: boolean; metric?: number }
  | ({ kind: "iptables"; table: string; op: "-I" | "-A" | "-D"; chain: string; position?: number; spec: string[] } & IptablesVia)
  | { kind: "sysctl"; key: string; value: string }
  | { kind: "addr"; verb: "add" | "del"; address: string; dev: string }
  | NftAction;

const ROUTE_TYPES = new Set(["unicast", "blackhole", "unreachable", "prohibit", "throw"]);
const ROUTE_KEYS = new Set(["via", "dev", "metric", "proto", "scope", "src", "mtu"]);
const SYSCTL_KEY = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i;

function unsupported(argv: readonly string[], why: string): XnodeError {
  return new XnodeError(
    "FIX_ABORTED",
    `xnode cannot run \`${argv.join(" ")}\` as part of a fix: ${why}`,
    "Only `ip route replace|del`, `ip addr add|del <address/prefix> dev <device>`, `iptables -I|-A|-D` (also as iptables-legacy or iptables-nft), `nft insert|delete rule` (open-vxlan-port's accept) and `sysctl -w key=value` can be applied, verified and rolled back; run anything else by hand.",
  );
}

function parseRoute(argv: readonly string[]): HostAction {
  const verb = argv[2];
  if (verb !== "replace" && verb !== "del") throw unsupported(argv, `ip route ${verb ?? ""} is not a supported verb`);
  let i = 3;
  if (ROUTE_TYPES.has(argv[i] ?? "")) i++;
  const dst = argv[i++];
  if (!dst || !/^[0-9.]+(\/\d+)?$/.test(dst)) throw unsupported(argv, "the destination is not an IPv4 prefix");
  const action: Extract<HostAction, { kind: "route" }> = { kind: "route", verb, dst, onlink: false };
  while (i < argv.length) {
    const key = argv[i++]!;
    if (key === "onlink") {
      action.onlink = true;
      continue;
    }
    const value = argv[i++];
    if (!ROUTE_KEYS.has(key) || value === undefined) throw unsupported(argv, `unexpected "${key}"`);
    if (key === "via") action.via = value;
    if (key === "dev") action.dev = value;
    if (key === "metric") action.metric = Number(value);
  }
  return action;
}

function parseIptables(argv: readonly string[]): HostAction {
  const via: IptablesVia = argv[0] === "iptables-legacy" || argv[0] === "iptables-nft" ? { tool: argv[0] } : {};
  let i = 1;
  let table: string | undefined;
  // -t TABLE and -w [SECONDS] (--wait), each at most once, in either order, before the command
  for (;;) {
    if (argv[i] === "-t" && table === undefined) {
      table = argv[i + 1] ?? "";
      i += 2;
    } else if ((argv[i] === "-w" || argv[i] === "--wait") && via.wait === undefined) {
      const seconds = argv[i + 1];
      via.wait = seconds !== undefined && /^\d+$/.test(seconds) ? Number(seconds) : true;
      i += via.wait === true ? 1 : 2;
    } else {
      break;
    }
  }
  const op = argv[i];
  const chain = argv[i + 1];
  if ((op !== "-I" && op !== "-A" && op !== "-D") || !chain) throw unsupported(argv, "only -I, -A and -D of one rule are supported");
  i += 2;
  let position: number | undefined;
  if (op === "-I" && /^\d+$/.test(argv[i] ?? "")) position = Number(argv[i++]);
  const spec = argv.slice(i);
  if (spec.length === 0 || spec.some((t) => ["-I", "-A", "-D", "-F", "-X", "-P", "-t", "-R"].includes(t))) {
    throw unsupported(argv, "the rule is empty or carries a second command");
  }
  return { kind: "iptables", ...via, table: table ?? "filter", op, chain, ...(position !== undefined ? { position } : {}), spec };
}

function parseSysctl(argv: readonly string[]): HostAction {
  const m = argv.length === 3 && argv[1] === "-w" ? /^([^=]+)=(.*)$/.exec(argv[2]!) : null;
  if (!m || !SYSCTL_KEY.test(m[1]!)) throw unsupported(argv, "expected `sysctl -w key=value` with one key");
  return { kind: "sysctl", key: m[1]!, value: m[2]! };
}

/** `ip addr add|del 10.244.1.1/24 dev cni0`, nothing more (no label, scope or broadcast to undo). */
function parseAddr(argv: readonly string[]): HostAction {
  const [, , verb, address, devKey, dev] = argv;
  if (verb !== "add" && verb !== "del") throw unsupported(argv, `ip addr ${verb ?? ""} is not a supported verb`);
  if (argv.length !== 6 || !address || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(address) || devKey !== "dev" || !dev || dev.startsWith("-")) {
    throw unsupported(argv, "expected `ip addr add|del <IPv4 address>/<prefix> dev <device>`");
  }
  return { kind: "addr", verb, address, dev };
}

export function parseHostAction(argv: readonly string[]): HostAction {
  if (argv[0] === "ip" && argv[1] === "route") return parseRoute(argv);
  if (argv[0] === "ip" && argv[1] === "addr") return parseAddr(argv);
  if ((IPTABLES_TOOLS as readonly string[]).includes(argv[0] ?? "")) return parseIptables(argv);
  if (argv[0] === "sysctl") return parseSysctl(argv);
  if (argv[0] === "nft") return parseNftAction(argv);
  throw unsupported(argv, `${argv[0] ?? "an empty command"} is not a command xnode applies`);
}

/** "net.ipv4.ip_forward" → "/proc/sys/net/ipv4/ip_forward" (read with cat: the agent need not ship procps). */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.split(".").join("/")}`;
}

/** `iptables [-w] …`: the tool a command names, with its wait for the lock. */
export function iptablesTool(via: IptablesVia = {}): string[] {
  const wait = via.wait === undefined ? [] : via.wait === true ? ["-w"] : ["-w", String(via.wait)];
  return [via.tool ?? "iptables", ...wait];
}

/** The save command of the same ruleset: iptables-save, iptables-legacy-save, iptables-nft-save. */
export function iptablesSaveTool(via: IptablesVia = {}): string {
  return `${via.tool ?? "iptables"}-save`;
}

/** `iptables [-w] [-t T] OP CHAIN` prefix, with the table omitted for filter as people write it. */
export function iptablesHead(table: string, op: string, chain: string, via: IptablesVia = {}): string[] {
  return [...iptablesTool(via), ...(table === "filter" ? [] : ["-t", table]), op, chain];
}

/** A route as `ip -j route show` prints it; fields xnode does not read are kept, for the route table's hash. */
export const routeJsonSchema = z
  .object({
    type: z.string().optional(),
    dst: z.string(),
    gateway: z.string().optional(),
    dev: z.string().optional(),
    protocol: z.string().optional(),
    scope: z.string().optional(),
    metric: z.number().optional(),
    prefsrc: z.string().optional(),
    flags: z.array(z.string()).optional(),
    metrics: z.array(z.object({ mtu: z.number().optional() }).passthrough()).optional(),
  })
  .passthrough();
export type RouteJson = z.infer<typeof routeJsonSchema>;

/** argv after `ip route replace` that recreates `route` as it was: `10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink`. */
export function routeSpec(route: RouteJson): string[] {
  const mtu = route.metrics?.find((m) => m.mtu !== undefined)?.mtu;
  return [
    ...(route.type && route.type !== "unicast" ? [route.type] : []),
    route.dst,
    ...(route.gateway ? ["via", route.gateway] : []),
    ...(route.dev ? ["dev", route.dev] : []),
    // "boot" is what `ip route` sets when no proto is given
    ...(route.protocol && route.protocol !== "boot" ? ["proto", route.protocol] : []),
    ...(route.scope && route.scope !== "global" && route.scope !== "universe" ? ["scope", route.scope] : []),
    ...(route.metric ? ["metric", String(route.metric)] : []),
    ...(route.prefsrc ? ["src", route.prefsrc] : []),
    ...(mtu !== undefined ? ["mtu", String(mtu)] : []),
    ...(route.flags?.includes("onlink") ? ["onlink"] : []),
  ];
}

/** The key the kernel replaces a route by (main table): destination and metric. */
export function routeKey(route: Pick<RouteJson, "dst" | "metric">): string {
  return `${route.dst} metric ${route.metric ?? 0}`;
}

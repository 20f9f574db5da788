// ICMP and TCP reachability checks run from an agent (host or pod network)
// by the agent's own binary: `xnode-agent reach` reads the targets on stdin,
// one per line, probes them from one process with bounded concurrency and
// writes one JSON line per result (deploy/agent-image/xnode-agent.c). Targets
// never travel in argv (the exec URL) and no process is started per target, so
// one exec costs about one timeout whether it carries ten targets or ten thousand.
import { isIPv4 } from "node:net";
import { z } from "zod";
import { XnodeError } from "../errors.js";
import type { ReachResult, ReachTarget } from "../model/index.js";
import { ProbeOutputError, type AgentKind, type Probe } from "./probe.js";

export interface ReachInput {
  /** per target; whole seconds (the agent's bound, and the exec's timeout is derived from it) */
  timeoutSeconds: number;
  targets: ReachTarget[];
}

const name = "reachability";

/** Probes in flight at once inside one agent: enough for a 1000-node row in a few waves, well under its open-file limit. */
export const REACH_CONCURRENCY = 256;

const idPattern = /^[a-z0-9:._-]+$/;
// Linux interface names: at most 15 characters, no "/" or spaces; no leading "-"
const ifacePattern = /^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/;

// The targets come from xnode's own planning, never from a person: a bad one is a bug.
const PLANNING_BUG = "This is a bug in xnode's reach planning; report it with the check's log.";

function invalidInput(why: string, hint = PLANNING_BUG): XnodeError {
  return new XnodeError("PROBE_INPUT_INVALID", `reachability: ${why}`, hint);
}

function checkTimeout(t: number): void {
  if (!Number.isInteger(t) || t < 1 || t > 60)
    throw invalidInput(`timeoutSeconds must be a whole number 1-60, got ${t}`, "Set pingTimeoutSeconds in the config to whole seconds.");
}

function argv(input: ReachInput): string[] {
  checkTimeout(input.timeoutSeconds);
  return ["xnode-agent", "reach", "--timeout", String(input.timeoutSeconds), "--concurrency", String(REACH_CONCURRENCY)];
}

/** One line per target: `<id> icmp <ip> [<iface>]` or `<id> tcp <ip> <port> [<iface>]`. */
function stdin(input: ReachInput): string {
  checkTimeout(input.timeoutSeconds);
  const ids = new Set<string>();
  return input.targets
    .map((target) => {
      const { id, kind, address, port, iface } = target;
      const bad = (why: string) => invalidInput(`target ${JSON.stringify(id)} ${why}`);
      if (!idPattern.test(id)) throw bad("has an id outside [a-z0-9:._-]");
      if (ids.has(id)) throw bad("is listed twice");
      ids.add(id);
      if (kind !== "icmp" && kind !== "tcp") throw bad(`has unknown kind ${JSON.stringify(kind)}`);
      if (!isIPv4(address)) throw bad(`address ${JSON.stringify(address)} is not an IPv4 address`);
      const portOk = typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535;
      if (kind === "tcp" && !portOk) throw bad(`needs a TCP port 1-65535, got ${port}`);
      if (iface !== undefined && !ifacePattern.test(iface)) throw bad(`interface ${JSON.stringify(iface)} is not an interface name`);
      return [id, kind, address, ...(kind === "tcp" ? [String(port)] : []), ...(iface ? [iface] : [])].join(" ") + "\n";
    })
    .join("");
}

const resultLine = z.union([
  z.object({ id: z.string(), ok: z.literal(true), rttMs: z.number().nonnegative() }).strict(),
  z.object({ id: z.string(), ok: z.literal(false), error: z.string() }).strict(),
]);

/** The agent's error words, as the report says them. */
function failure(kind: ReachTarget["kind"], error: string): string {
  if (error === "timeout") return kind === "icmp" ? "no reply (timeout)" : "timeout";
  // a TCP RST, or EHOSTUNREACH once the neighbour entry is FAILED
  if (error === "refused" || error === "unreachable") return kind === "icmp" ? "host unreachable" : "connection refused or host unreachable";
  return error; // "socket: <reason>" (no ping permission, no such interface) or "bad-target": said as the agent said it
}

function parse(stdout: string, input: ReachInput): ReachResult[] {
  const byId = new Map(input.targets.map((t) => [t.id, t]));
  const results = new Map<string, ReachResult>();
  for (const line of stdout.split("\n").map((l) => l.trim())) {
    if (line === "") continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      throw new ProbeOutputError(name, "unreadable result line", line);
    }
    const r = resultLine.safeParse(data);
    if (!r.success) throw new ProbeOutputError(name, "unreadable result line", line);
    const target = byId.get(r.data.id);
    if (!target) throw new ProbeOutputError(name, `result for unknown target ${JSON.stringify(r.data.id)}`, line);
    results.set(r.data.id, r.data.ok ? r.data : { id: r.data.id, ok: false, error: failure(target.kind, r.data.error) });
  }
  // not one line means the agent never ran (an old agent image, an error page from a proxy, …): not a network verdict
  if (input.targets.length > 0 && results.size === 0) throw new ProbeOutputError(name, "no result line", stdout.trim());
  return input.targets.map((t) => results.get(t.id) ?? { id: t.id, ok: false, error: "no result" });
}

function reachabilityProbe(agent: AgentKind): Probe<ReachInput, ReachResult[]> {
  return { name, agent, argv, stdin, parse };
}

/** node → pod and node → NodePort checks from the host agent */
export const hostReachabilityProbe = reachabilityProbe("host");
/** pod → pod checks from the pod agent */
export const podReachabilityProbe = reachabilityProbe("pod");

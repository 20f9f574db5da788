// ICMP and TCP reachability checks run from an agent (host or pod network).
// The script is fixed text; every address, port and id reaches it only as a
// positional parameter, so nothing from the cluster is ever parsed by a shell.
// All targets run in parallel: one exec costs one timeout, not one per target.
import { isIPv4 } from "node:net";
import { XnodeError } from "../errors.js";
import type { ReachResult, ReachTarget } from "../model/index.js";
import { ProbeOutputError, type AgentKind, type Probe } from "./probe.js";

export interface ReachInput {
  /** per target; whole seconds because busybox ping takes no fractions */
  timeoutSeconds: number;
  targets: ReachTarget[];
}

const name = "reachability";
const marker = "XNODE-RESULT";

// $1 = timeout, then 5 parameters per target: id kind address port|- iface|-
// --noproxy: a pod's HTTP(S)_PROXY must not turn a pod-to-pod check into a proxy check.
const script = `t=$1
shift
ping_once() {
  if [ "$2" = - ]; then ping -n -c 1 -W "$t" "$1"; else ping -n -c 1 -W "$t" -I "$2" "$1"; fi
}
while [ "$#" -ge 5 ]; do
  (
    case $2 in
      icmp)
        out=$(ping_once "$3" "$5" 2>&1)
        code=$?
        rtt=$(printf '%s\\n' "$out" | sed -n 's/.*time=\\([0-9.]*\\) *ms.*/\\1/p' | head -n 1) ;;
      tcp)
        rtt=$(curl -s -o /dev/null --noproxy '*' -m "$t" -w '%{time_connect}' "http://$3:$4/")
        code=$? ;;
    esac
    echo "${marker} $1 $code \${rtt:--}"
  ) &
  shift 5
done
wait
`;

const idPattern = /^[a-z0-9:._-]+$/;
// Linux interface names: at most 15 characters, no "/" or spaces; no leading "-" so ping never sees an option
const ifacePattern = /^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/;

// The targets come from xnode's own planning, never from a person: a bad one is a bug.
const PLANNING_BUG = "This is a bug in xnode's reach planning; report it with the check's log.";

function invalidInput(why: string, hint = PLANNING_BUG): XnodeError {
  return new XnodeError("PROBE_INPUT_INVALID", `reachability: ${why}`, hint);
}

function argv(input: ReachInput): string[] {
  const { timeoutSeconds: t } = input;
  if (!Number.isInteger(t) || t < 1 || t > 60)
    throw invalidInput(`timeoutSeconds must be a whole number 1-60, got ${t}`, "Set pingTimeoutSeconds in the config to whole seconds.");
  const ids = new Set<string>();
  const args = input.targets.flatMap((target) => {
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
    return [id, kind, address, kind === "tcp" ? String(port) : "-", iface ?? "-"];
  });
  return ["sh", "-c", script, "xnode-reach", String(t), ...args];
}

function failure(kind: ReachTarget["kind"], code: number): string {
  if (code === 127) return `${kind === "icmp" ? "ping" : "curl"} is not installed in the agent`;
  if (kind === "icmp") return code === 1 ? "no reply (timeout)" : code === 2 ? "error" : `ping exit ${code}`;
  // curl's 7 is any failed connect: an RST, but also EHOSTUNREACH once the neighbour entry is FAILED
  return code === 7 ? "connection refused or host unreachable" : code === 28 ? "timeout" : `curl exit ${code}`;
}

/** ping prints milliseconds; curl's time_connect is in seconds */
function rttMs(kind: ReachTarget["kind"], rtt: string, line: string): number | undefined {
  if (rtt === "-") return undefined;
  if (!/^\d+(\.\d+)?$/.test(rtt)) throw new ProbeOutputError(name, `round-trip time ${JSON.stringify(rtt)} is not a number`, line);
  const value = Number(rtt);
  return kind === "icmp" ? value : Math.round(value * 1e6) / 1e3;
}

function parse(stdout: string, input: ReachInput): ReachResult[] {
  const byId = new Map(input.targets.map((t) => [t.id, t]));
  const results = new Map<string, ReachResult>();
  for (const line of stdout.split("\n").map((l) => l.trim())) {
    if (!line.startsWith(`${marker} `)) continue;
    const m = /^\S+ (\S+) (\d+) (\S+)$/.exec(line);
    if (!m) throw new ProbeOutputError(name, "unreadable result line", line);
    const [, id = "", codeText = "", rtt = ""] = m;
    const target = byId.get(id);
    if (!target) throw new ProbeOutputError(name, `result for unknown target ${JSON.stringify(id)}`, line);
    const code = Number(codeText);
    results.set(id, code === 0 ? { id, ok: true, rttMs: rttMs(target.kind, rtt, line) } : { id, ok: false, error: failure(target.kind, code) });
  }
  // not one line means the script never ran (no sh, an error page from a proxy, …): not a network verdict
  if (input.targets.length > 0 && results.size === 0) throw new ProbeOutputError(name, `no ${marker} line`, stdout.trim());
  return input.targets.map((t) => results.get(t.id) ?? { id: t.id, ok: false, error: "no result" });
}

function reachabilityProbe(agent: AgentKind): Probe<ReachInput, ReachResult[]> {
  return { name, agent, argv, parse };
}

/** node → pod and node → NodePort checks from the host agent */
export const hostReachabilityProbe = reachabilityProbe("host");
/** pod → pod checks from the pod agent */
export const podReachabilityProbe = reachabilityProbe("pod");

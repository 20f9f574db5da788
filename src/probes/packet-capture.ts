// Counts the packets one probe produces at a node's interfaces: tcpdump on
// each interface at once, bounded in packets and seconds, filtered to the
// probe's own pod addresses (on the overlay and bridge) or to VXLAN packets
// carrying them (on the underlay). The script is fixed text; interfaces and
// filters (built by xnode from validated addresses) arrive as positional
// parameters.
import { isIPv4 } from "node:net";
import { XnodeError } from "../errors.js";
import { ProbeOutputError, type Probe } from "./probe.js";

export interface CaptureInput {
  /** how long every capture listens, whole seconds */
  seconds: number;
  /** stop an interface's capture after this many packets */
  maxPackets: number;
  points: { iface: string; filter: string }[];
}

export interface CaptureResult {
  iface: string;
  packets: number;
  /** the first captured line, as tcpdump printed it */
  first?: string;
  /** why the capture could not run (no such device, no permission, no tcpdump) */
  error?: string;
}

const name = "packet-capture";
const marker = "XNODE-CAPTURE";

// $1 seconds, $2 packets, then pairs: iface filter
const script = `s=$1 n=$2
shift 2
if ! command -v tcpdump >/dev/null 2>&1; then
  while [ "$#" -ge 2 ]; do echo "${marker} $1 0"; echo "error tcpdump is not installed in the agent"; shift 2; done
  exit 0
fi
dir=$(mktemp -d)
i=0
while [ "$#" -ge 2 ]; do
  echo "$1" >"$dir/$i.if"
  timeout "$s" tcpdump -p -nn -l -i "$1" -c "$n" "$2" >"$dir/$i.out" 2>"$dir/$i.err" &
  i=$((i + 1))
  shift 2
done
wait
j=0
while [ "$j" -lt "$i" ]; do
  echo "${marker} $(cat "$dir/$j.if") $(grep -c . "$dir/$j.out")"
  grep -m 1 . "$dir/$j.out" | sed 's/^/first /'
  grep -v -e 'listening on' -e 'packets captured' -e 'packets received' -e 'packets dropped' -e 'verbose output suppressed' "$dir/$j.err" | head -n 1 | sed 's/^/error /'
  j=$((j + 1))
done
rm -rf "$dir"
`;

// Linux interface names: at most 15 characters, no "/" or spaces, no leading "-"
const ifacePattern = /^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/;
// Filters are xnode's own (captureFilters below): words, numbers, brackets and comparison signs only
const filterPattern = /^[a-z0-9 .[\]:=&()x]+$/;

function invalid(why: string): XnodeError {
  return new XnodeError("PROBE_INPUT_INVALID", `packet-capture: ${why}`, "This is a bug in xnode's trace planning; report it with the check's log.");
}

function argv(input: CaptureInput): string[] {
  if (!Number.isInteger(input.seconds) || input.seconds < 1 || input.seconds > 30) throw invalid(`seconds must be 1-30, got ${input.seconds}`);
  if (!Number.isInteger(input.maxPackets) || input.maxPackets < 1 || input.maxPackets > 100) throw invalid(`maxPackets must be 1-100, got ${input.maxPackets}`);
  if (input.points.length === 0) throw invalid("no capture points");
  const args = input.points.flatMap(({ iface, filter }) => {
    if (!ifacePattern.test(iface)) throw invalid(`interface ${JSON.stringify(iface)} is not an interface name`);
    if (!filterPattern.test(filter)) throw invalid(`filter ${JSON.stringify(filter)} has characters xnode never writes`);
    return [iface, filter];
  });
  return ["sh", "-c", script, name, String(input.seconds), String(input.maxPackets), ...args];
}

function parse(stdout: string, input: CaptureInput): CaptureResult[] {
  const results: CaptureResult[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith(`${marker} `)) {
      const [, iface, count] = line.split(" ");
      const packets = Number(count);
      if (!iface || !Number.isInteger(packets)) throw new ProbeOutputError(name, `bad result line ${JSON.stringify(line)}`, stdout);
      results.push({ iface, packets });
    } else if (line.startsWith("first ") && results.length > 0) {
      results[results.length - 1]!.first = line.slice(6);
    } else if (line.startsWith("error ") && results.length > 0) {
      results[results.length - 1]!.error = line.slice(6);
    }
  }
  const missing = input.points.filter((p) => !results.some((r) => r.iface === p.iface));
  if (missing.length > 0) throw new ProbeOutputError(name, `no result for ${missing.map((p) => p.iface).join(", ")}`, stdout);
  return results;
}

export const packetCaptureProbe: Probe<CaptureInput, CaptureResult[]> = { name, agent: "host", argv, parse };

const hex = (ip: string) =>
  `0x${ip
    .split(".")
    .map((o) => Number(o).toString(16).padStart(2, "0"))
    .join("")}`;

/**
 * BPF filters for one probe from `src` to `dst` (pod addresses): on the
 * overlay and the bridge the ICMP packets themselves; on the underlay the
 * VXLAN packets to `port` whose inner IPv4 header carries them (udp header 8,
 * VXLAN 8, inner Ethernet 14: the inner IP starts at udp[30]).
 */
export function captureFilters(src: string, dst: string, port: number): { inner: string; vxlan: string } {
  if (!isIPv4(src) || !isIPv4(dst)) throw invalid(`pod addresses must be IPv4, got ${src} and ${dst}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`bad VXLAN port ${port}`);
  return {
    inner: `icmp and src host ${src} and dst host ${dst}`,
    vxlan: `udp dst port ${port} and udp[39:1] = 1 and udp[42:4] = ${hex(src)} and udp[46:4] = ${hex(dst)}`,
  };
}

// The two sysctls that break forwarding (flannel-notes §7): ip_forward must be
// 1, rp_filter=1 drops asymmetric replies. Read with cat, one value per line,
// because the agent image need not ship procps' sysctl.
import type { SysctlValues } from "../model/index.js";
import { ProbeOutputError, type Probe } from "./probe.js";

const name = "sysctls";
const files = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/all/rp_filter"];

function parse(stdout: string): SysctlValues {
  const lines = stdout.trim() === "" ? [] : stdout.trim().split("\n");
  if (lines.length !== files.length) {
    throw new ProbeOutputError(name, `expected ${files.length} lines (${files.join(", ")}), got ${lines.length}`, stdout);
  }
  const [ipForward, rpFilterAll] = lines.map((line) => {
    if (!/^\d+$/.test(line.trim())) throw new ProbeOutputError(name, `${JSON.stringify(line)} is not an integer`, stdout);
    return Number(line.trim());
  });
  return { ipForward, rpFilterAll };
}

export const sysctlsProbe: Probe<void, SysctlValues> = {
  name,
  agent: "host",
  argv: () => ["cat", ...files],
  parse,
};

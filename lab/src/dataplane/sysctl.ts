// Writes sysctls of one network namespace. /proc/sys/net shows the namespace
// of the process that opens it, so the write has to happen inside the namespace:
// a tiny sh loop receives paths and values as arguments (never as script text).
import { inNetns, run } from "./exec.js";

const sysctlKey = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** "net.ipv4.ip_forward" → "/proc/sys/net/ipv4/ip_forward" */
export function sysctlPath(key: string): string {
  if (!sysctlKey.test(key)) throw new Error(`invalid sysctl key ${JSON.stringify(key)}`);
  return `/proc/sys/${key.split(".").join("/")}`;
}

const writeLoop = 'while [ "$#" -gt 1 ]; do printf "%s\\n" "$2" > "$1" || exit 1; shift 2; done';

export async function writeSysctls(netns: string, values: Record<string, string | number>): Promise<void> {
  const args = Object.entries(values).flatMap(([key, value]) => [sysctlPath(key), String(value)]);
  if (args.length === 0) return;
  await run(inNetns(netns, ["sh", "-c", writeLoop, "sysctl", ...args]));
}

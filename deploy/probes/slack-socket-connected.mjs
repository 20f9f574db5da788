// Exec probe for the bot in Socket Mode, which listens on no port: exits 0
// while this pod has an established TCP connection to a remote port 443 (the
// WebSocket to Slack; Slack's Web API calls count too), 1 otherwise. As a
// liveness probe with a few minutes of failures allowed, it restarts a bot
// whose Socket Mode client has given up reconnecting.
// Arguments: remote ports to accept (default 443; behind an HTTPS proxy, give
// the proxy's port). XNODE_PROC_NET (tests) replaces /proc/net.
import { readFileSync } from "node:fs";

const ports = new Set((process.argv.slice(2).length ? process.argv.slice(2) : ["443"]).map((p) => Number(p)));
const dir = process.env.XNODE_PROC_NET ?? "/proc/net";
const ESTABLISHED = "01";
let found = false;
for (const file of ["tcp", "tcp6"]) {
  let text = "";
  try {
    text = readFileSync(`${dir}/${file}`, "utf8");
  } catch {
    continue; // no IPv6 in this pod
  }
  // "  sl  local_address rem_address   st …": addresses are HEXADDR:HEXPORT
  for (const line of text.split("\n").slice(1)) {
    const [, , remote, state] = line.trim().split(/\s+/);
    if (!remote || state !== ESTABLISHED) continue;
    const port = parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16);
    if (ports.has(port)) found = true;
  }
}
if (!found) console.error(`slack-socket-connected: no established connection to port ${[...ports].join(", ")}`);
process.exit(found ? 0 : 1);

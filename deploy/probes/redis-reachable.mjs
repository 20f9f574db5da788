// Exec probe: exits 0 when a TCP connection to REDIS_URL's host and port
// opens within 2 s, 1 otherwise. Used by the worker (and the bot in Socket
// Mode), which have no port of their own to probe: without Redis they can do
// nothing, and a rollout whose REDIS_URL is wrong should stop, not go on.
// Plain TCP on purpose: no password, no TLS handshake, nothing to log.
import { connect } from "node:net";

const raw = process.argv[2] ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
let url;
try {
  url = new URL(raw);
} catch {
  console.error("redis-reachable: REDIS_URL is not a URL");
  process.exit(1);
}
const host = url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
const port = Number(url.port || 6379);
const socket = connect({ host, port });
const fail = (why) => {
  console.error(`redis-reachable: ${host}:${port}: ${why}`);
  socket.destroy();
  process.exit(1);
};
socket.setTimeout(2000, () => fail("timeout"));
socket.once("error", (err) => fail(err.code ?? err.message));
socket.once("connect", () => {
  socket.destroy();
  process.exit(0);
});

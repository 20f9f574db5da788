// Stand-in for a pod's workload: answers every HTTP request with 200 and
// {pod, node}, so the lab (and xnode's pod agents) can test TCP reachability.
// Usage: node http-responder.mjs PORT POD NODE   (run inside the pod's netns)
import { createServer } from "node:http";

const [portText, pod, node] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !pod || !node) {
  console.error("usage: node http-responder.mjs PORT POD NODE");
  process.exit(2);
}

const body = JSON.stringify({ pod, node });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
// The parent waits for this line, then closes the pipe: nothing is written after it.
server.listen(port, "0.0.0.0", () => process.stdout.write("listening\n"));

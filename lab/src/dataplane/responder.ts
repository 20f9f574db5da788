// Starts the HTTP responder inside a pod namespace as a detached process that
// outlives the caller (`lab up` returns while the pods keep answering).
// destroyTopology kills it through `ip netns pids`.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const responderScript = fileURLToPath(new URL("./http-responder.mjs", import.meta.url));

/** Resolves with the responder's pid once it listens on `port`. */
export function startResponder(netns: string, port: number, pod: string, node: string, timeoutMs = 5000): Promise<number> {
  const argv = ["netns", "exec", netns, process.execPath, responderScript, String(port), pod, node];
  return new Promise((resolve, reject) => {
    const child = spawn("ip", argv, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      if (err) {
        child.kill("SIGKILL");
        reject(err);
      } else resolve(child.pid ?? -1);
    };
    const timer = setTimeout(() => finish(new Error(`responder in ${netns} not listening after ${timeoutMs} ms`)), timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (chunk.includes("listening")) finish();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (e) => finish(new Error(`cannot start responder in ${netns}: ${e.message}`)));
    child.on("exit", (code) => finish(new Error(`responder in ${netns} exited (${code}) before listening: ${stderr.trim()}`)));
  });
}

// "@xnode/lab/testing": for tests that need a lab cluster: start/stop it
// in-process, write its kubeconfig, and run kubectl against it as an
// independent second client.
import { execFile } from "node:child_process";
import { request } from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { scenarioPath } from "./bundled-scenarios.js";
import { Lab } from "./lab.js";
import { loadScenario, type Scenario } from "./scenario.js";

const execFileP = promisify(execFile);

export { scenarioPath };
/** Where the lab's build of the agents' binary (xnode-agent) is, built on first use. */
export { agentBinaryDir } from "./dataplane/agent-binary.js";
export { tableReadingAgent, type TableReadingAgent } from "./dataplane/table-reading-agent.js";

/** Labs need root and network namespaces: fail loudly, never skip. */
export function requireLabPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error("lab tests need root (network namespaces, veth, VXLAN, iptables): run the tests as root");
}

export interface StartedLab {
  lab: Lab;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

/** A lab of a bundled scenario (by name) or of a scenario built by the test. */
export async function startLab(scenario: string | Scenario, name?: string): Promise<StartedLab> {
  requireLabPrerequisites();
  const loaded = typeof scenario === "string" ? await loadScenario(scenarioPath(scenario)) : scenario;
  const lab = await Lab.start(loaded, { name: name ?? `${loaded.name}-${process.pid}-${Math.random().toString(36).slice(2, 6)}` });
  const dir = await mkdtemp(join(tmpdir(), "xnode-test-"));
  const kubeconfigPath = join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, lab.kubeconfig, { mode: 0o600 });
  return {
    lab,
    kubeconfigPath,
    stop: async () => {
      await lab.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A lab of `scenario` (unique name) for the length of `body`, stopped afterwards whatever happens. */
export async function withLab<T>(scenario: string, body: (started: StartedLab) => Promise<T>): Promise<T> {
  const started = await startLab(scenario);
  try {
    return await body(started);
  } finally {
    await started.stop();
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export async function run(argv: string[], timeoutMs = 30_000): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileP(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof e.code !== "number") throw err;
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: e.code };
  }
}

export function kubectl(kubeconfigPath: string, ...args: string[]): Promise<CommandResult> {
  return run(["kubectl", "--kubeconfig", kubeconfigPath, ...args]);
}

/** kubectl against `started` that must succeed: its stdout (a failure names the command and kubectl's stderr). */
export async function kubectlStdout(started: StartedLab, ...args: string[]): Promise<string> {
  const r = await kubectl(started.kubeconfigPath, ...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The lab's pod names are random: look them up like an operator would. */
export async function podOn(kubeconfigPath: string, namespace: string, selector: string, node: string): Promise<string> {
  const r = await kubectl(
    kubeconfigPath,
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    selector,
    "--field-selector",
    `spec.nodeName=${node}`,
    "-o",
    "jsonpath={.items[0].metadata.name}",
  );
  if (r.code !== 0 || !r.stdout) throw new Error(`no pod ${selector} on ${node}: ${r.stderr}`);
  return r.stdout;
}

/** Calls the lab API server's /_lab admin endpoints (verifying its own CA). */
export function labAdmin(lab: Lab, method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return adminRequest({ url: lab.url, caPem: lab.caPem, adminToken: lab.adminToken }, method, path, body);
}

/** The same for any emulated API server, given its URL, CA and admin token. */
export function adminRequest(
  server: { url: string; caPem: string; adminToken: string },
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method, ca: server.caPem, headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined });
        });
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

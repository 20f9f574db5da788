// xnode as it is deployed: `xnode bot` and `xnode worker` as separate OS
// processes (src/main.ts through tsx), each with its JSON log kept for
// assertions and failure messages, that a test can SIGKILL or SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { pollUntil } from "../slack/poll-until.js";

const XNODE = ["--import", "tsx", "src/main.ts"];

export class XnodeProcess {
  private stderr = "";
  readonly exited: Promise<number | null>;

  constructor(
    readonly role: "bot" | "worker",
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on("data", (c: Buffer) => (this.stderr += c.toString()));
    child.stdout!.on("data", (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The process's log lines parsed as JSON (lines that are not are skipped). */
  logLines(): Record<string, unknown>[] {
    return this.stderr.split("\n").flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  get log(): string {
    return this.stderr;
  }

  /** Resolves with the first log line the predicate accepts. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return pollUntil(
      () => this.logLines().find(predicate),
      timeoutMs,
      () => `${this.role} ${this.pid} log:\n${this.stderr.slice(-4000)}`,
      50,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/**
 * Starts `xnode <role>` with `env` and resolves once it logged that it started:
 * from the source through tsx, or with `built` as production runs it, `node dist/main.js`
 * (after `npm run build`), so its memory is not the transpiler's.
 */
export async function startXnodeProcess(role: "bot" | "worker", env: Record<string, string>, opts: { built?: boolean } = {}): Promise<XnodeProcess> {
  const child = spawn(process.execPath, [...(opts.built ? ["dist/main.js"] : XNODE), role], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proc = new XnodeProcess(role, child);
  await Promise.race([
    proc.waitForLog((l) => l.msg === `xnode ${role} started`, 60_000),
    proc.exited.then((code) => {
      throw new Error(`xnode ${role} exited with ${code} before it started:\n${proc.log}`);
    }),
  ]);
  return proc;
}

// xnode as it is deployed: `xnode bot` and `xnode worker` as separate OS
// processes (src/main.ts through tsx), each with its JSON log kept for
// assertions and failure messages, that a test can SIGKILL or SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";

const XNODE = ["--import", "tsx", "src/main.ts"];

type LogLine = Record<string, unknown>;

export class XnodeProcess {
  private text = "";
  // Parsed as the output arrives, so a wait costs one predicate call per new line, not a re-parse of the whole log.
  private readonly lines: LogLine[] = [];
  private readonly lineListeners = new Set<(line: LogLine) => void>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly role: "bot" | "worker",
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stderr!, child.stdout!]) {
      // Per stream: a line may arrive in pieces, and the two streams' pieces interleave.
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        this.text += chunk;
        const parts = (partial + chunk).split("\n");
        partial = parts.pop()!;
        for (const part of parts) this.addLine(part);
      });
      stream.on("end", () => this.addLine(partial));
    }
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  private addLine(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    if (typeof line !== "object" || line === null) return;
    this.lines.push(line);
    for (const listener of this.lineListeners) listener(line);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The process's log lines parsed as JSON (lines that are not are skipped). */
  logLines(): readonly LogLine[] {
    return this.lines;
  }

  get log(): string {
    return this.text;
  }

  /** Resolves with the first log line the predicate accepts. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return XnodeProcess.firstLog([this], predicate, timeoutMs);
  }

  /**
   * The first line any of `processes` logs that the predicate accepts (already logged or yet to come);
   * a predicate that throws means "not yet". Once it settles nothing is left listening or ticking.
   */
  static firstLog(processes: readonly XnodeProcess[], predicate: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    let lastError: unknown;
    const accepts = (line: LogLine) => {
      try {
        return predicate(line);
      } catch (error) {
        lastError = error;
        return false;
      }
    };
    for (const p of processes) {
      const found = p.lines.find(accepts);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        for (const p of processes) p.lineListeners.delete(listener);
      };
      const listener = (line: LogLine) => {
        if (!accepts(line)) return;
        stop();
        resolve(line);
      };
      const timer = setTimeout(() => {
        stop();
        const last = lastError instanceof Error ? `\nlast check failed: ${lastError.message}` : "";
        const logs = processes.map((p) => `${p.role} ${p.pid} log:\n${p.text.slice(-4000)}`).join("\n");
        reject(new Error(`waited ${timeoutMs} ms in vain${last}\n${logs}`));
      }, timeoutMs);
      for (const p of processes) p.lineListeners.add(listener);
    });
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

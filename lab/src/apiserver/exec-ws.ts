// `kubectl exec` over WebSocket (channel.k8s.io v4/v5): the first byte of
// every binary message is the channel (0 stdin, 1 stdout, 2 stderr, 3 status,
// 4 resize, 255 close in v5). The command runs inside the pod's network
// namespace with `ip netns exec`, argv as given, no shell; or, for a pod of a
// synthetic cluster, a simulator answers it (stdin collected first).
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants } from "node:fs";
import type { IncomingMessage } from "node:http";
import { constants as osConstants } from "node:os";
import { delimiter, join } from "node:path";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/** Subprotocols we speak, best first. v5 adds the close channel (stdin EOF). */
export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

/** Answers a command of a synthetic pod (after whatever delay it models). */
export type ExecSimulator = (command: string[], stdin: string) => Promise<{ stdout: string; stderr: string; exitCode: number }>;

/** Where an exec runs: a network namespace, or a simulator. */
export type ExecTarget = { netns: string } | { simulate: ExecSimulator };

export type ExecRequest = ExecTarget & {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Accept the connection and never answer (timeout tests). */
  hang: boolean;
};

/** The protocol to answer with, or undefined when the client offers none we speak. */
export function pickProtocol(header: string | undefined): string | undefined {
  const offered = (header ?? "").split(",").map((p) => p.trim());
  return EXEC_PROTOCOLS.find((p) => offered.includes(p));
}

function sendExit(ws: WebSocket, code: number, command: string[], detail?: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(frame(STATUS, JSON.stringify(exitStatus(code, command, detail))));
  ws.close(1000);
}

function exitStatus(code: number, command: string[], detail?: string) {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: ${detail ?? `error executing command [${command.join(" ")}]`}, exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

/** PATH lookup done up front so a missing binary is a clean 127, not an `ip` error. */
function findExecutable(cmd: string, path = process.env.PATH ?? ""): boolean {
  const candidates = cmd.includes("/")
    ? [cmd]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, cmd));
  return candidates.some((file) => {
    try {
      accessSync(file, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

export class ExecSessions {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => pickProtocol([...protocols].join(",")) ?? false,
  });
  private readonly children = new Set<ChildProcess>();

  /** `pathDirs` come first on the commands' PATH (where the lab put the agents' own binary). */
  constructor(
    private readonly log: (msg: string, fields?: object) => void,
    pathDirs: readonly string[] = [],
  ) {
    this.path = [...pathDirs, process.env.PATH ?? ""].filter(Boolean).join(delimiter);
  }

  private readonly path: string;

  /** Completes the WebSocket handshake, then runs the command (or, for a hang, does nothing). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, exec: ExecRequest): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (exec.hang) return; // keep the socket open, never write: the client must time out
      if ("simulate" in exec) this.simulate(ws, exec);
      else this.run(ws, exec);
    });
  }

  /** stdin, when asked for, is read to its end (v5's close frame) before the simulator answers. */
  private simulate(ws: WebSocket, exec: ExecRequest & { simulate: ExecSimulator }): void {
    const chunks: Buffer[] = [];
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      exec.simulate(exec.command, Buffer.concat(chunks).toString("utf8")).then(
        (r) => {
          if (ws.readyState !== ws.OPEN) return;
          if (exec.stdout && r.stdout) ws.send(frame(STDOUT, r.stdout));
          if (exec.stderr && r.stderr) ws.send(frame(STDERR, r.stderr));
          sendExit(ws, r.exitCode, exec.command);
        },
        (err: unknown) => sendExit(ws, 126, exec.command, `simulator failed: ${(err as Error).message}`),
      );
    };
    if (!exec.stdin) return start();
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary || data.length === 0) return;
      if (data[0] === STDIN) chunks.push(data.subarray(1));
      else if (data[0] === CLOSE && data[1] === STDIN) start();
    });
  }

  private run(ws: WebSocket, exec: ExecRequest & { netns: string }): void {
    const { command } = exec;
    const finish = (code: number, detail?: string) => sendExit(ws, code, command, detail);
    if (!findExecutable(command[0]!, this.path)) {
      const message = `exec: "${command[0]}": executable file not found in $PATH`;
      if (exec.stderr) ws.send(frame(STDERR, `${message}\n`));
      finish(127, message);
      return;
    }
    // detached: own process group, so closing the socket kills whatever the command started too.
    const child = spawn("ip", ["netns", "exec", exec.netns, ...command], {
      env: { ...process.env, PATH: this.path },
      stdio: [exec.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      detached: true,
    });
    this.children.add(child);
    const started = Date.now();
    child.stdout!.on("data", (chunk: Buffer) => exec.stdout && ws.readyState === ws.OPEN && ws.send(frame(STDOUT, chunk)));
    child.stderr!.on("data", (chunk: Buffer) => exec.stderr && ws.readyState === ws.OPEN && ws.send(frame(STDERR, chunk)));
    child.stdin?.on("error", () => undefined); // the command may exit before reading its stdin
    child.on("error", (err) => {
      this.children.delete(child);
      finish(127, `failed to start ${command[0]}: ${err.message}`);
    });
    child.on("close", (code, signal) => {
      this.children.delete(child);
      const exitCode = code ?? 128 + (signal ? osConstants.signals[signal] : 0);
      this.log("exec finished", { netns: exec.netns, command, exitCode, ms: Date.now() - started });
      finish(exitCode);
    });
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary || data.length === 0) return;
      if (data[0] === STDIN) child.stdin?.write(data.subarray(1));
      else if (data[0] === CLOSE && data[1] === STDIN) child.stdin?.end();
      // Resize (4) is meaningless without a TTY and is ignored.
    });
    ws.on("close", () => kill(child));
  }

  /** Ends every session and its process (server shutdown). */
  closeAll(): void {
    for (const child of this.children) kill(child);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

function kill(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone between the check and the kill.
  }
}

// Runs lab commands as argv arrays, never through a shell, so no scenario text
// (names, addresses) can ever be interpreted as shell syntax.
import { spawn } from "node:child_process";

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Kill the command after this long (default 10 s): a hung command must not hang the lab. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Return a non-zero exit code instead of throwing. */
  allowFail?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const why = result.stderr.trim() || result.stdout.trim() || "(no output)";
    super(`command failed (exit ${result.code}): ${argv.join(" ")}\n${why}`);
    this.name = "CommandError";
  }
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error("run: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], timeout: opts.timeoutMs ?? 10_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new Error(`cannot start ${argv.join(" ")}: ${e.message}`)));
    child.on("close", (code, signal) => {
      const result: RunResult = {
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + (signal ? `\nkilled by ${signal} (timeout?)` : ""),
        code: code ?? 128,
      };
      if (result.code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
      else resolve(result);
    });
    // A command that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** argv that runs `argv` inside network namespace `netns`. */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ["ip", "netns", "exec", netns, ...argv];
}

// `ip -batch` splits lines on whitespace and honours quotes and `#`, so a token
// carrying any of those would change the command: refuse it instead.
const unsafeBatchToken = /[\s"'#\\]/;

function batchLines(commands: readonly (readonly string[])[]): string {
  return commands
    .map((argv) => {
      const bad = argv.find((t) => t === "" || unsafeBatchToken.test(t));
      if (bad !== undefined) throw new Error(`unsafe token ${JSON.stringify(bad)} in batch command: ${argv.join(" ")}`);
      return argv.join(" ");
    })
    .join("\n");
}

/**
 * Runs many `ip` commands (each given without the leading "ip") inside one
 * namespace with a single process: one `ip -n NS -batch -` instead of one
 * process per command keeps building a lab fast. Stops at the first failure.
 */
export async function ipBatch(netns: string, commands: readonly (readonly string[])[]): Promise<void> {
  if (commands.length === 0) return;
  await run(["ip", "-n", netns, "-batch", "-"], { input: batchLines(commands) + "\n" });
}

/** Same as ipBatch for the `bridge` tool (FDB entries). */
export async function bridgeBatch(netns: string, commands: readonly (readonly string[])[]): Promise<void> {
  if (commands.length === 0) return;
  await run(["bridge", "-n", netns, "-batch", "-"], { input: batchLines(commands) + "\n" });
}

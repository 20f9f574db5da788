// A redis-server (or redis-sentinel) of the test's own on a free loopback
// port, so a test can kill and restart it without touching the shared Redis.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves when something answers PING on the port (a server or a sentinel). */
export async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing answers PING on 127.0.0.1:${port} after ${timeoutMs} ms`);
    } finally {
      probe.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class RedisProcess {
  private child?: ChildProcess;
  private output = "";

  constructor(
    readonly port: number,
    /** extra arguments after the port (`--replicaof …`, or a sentinel's config file first) */
    private readonly args: string[] = [],
    private readonly binary = "redis-server",
    /** keep the data across kills in an append-only file here (fsync on every write), as a persistent Redis would */
    private readonly dataDir?: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** What the server printed, for failure messages. */
  get log(): string {
    return this.output;
  }

  async start(): Promise<void> {
    const [first, ...rest] = this.args;
    // redis-sentinel takes its config file before any option.
    const argv =
      this.binary === "redis-sentinel"
        ? [first!, "--port", String(this.port), ...rest]
        : ["--port", String(this.port), ...this.args, "--save", "", ...this.persistence()];
    const child = spawn(this.binary, [...argv, "--bind", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (c: Buffer) => (this.output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (this.output += c.toString()));
    this.child = child;
    await waitForPing(this.port);
  }

  private persistence(): string[] {
    return this.dataDir ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", this.dataDir] : ["--appendonly", "no"];
  }

  /** SIGKILL, as a crash or an OOM kill: no shutdown; without a data directory all data is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return; // already gone: "exit" will not fire again
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/** A redis-server on a free port: without persistence, or with an append-only file in `dataDir`. */
export async function startPrivateRedis(dataDir?: string): Promise<RedisProcess> {
  const redis = new RedisProcess(await freePort(), [], "redis-server", dataDir);
  await redis.start();
  return redis;
}

/** Resolves with the first truthy result of an async probe; rejects after `timeoutMs` with `describe()`. */
export async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, describe: () => string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms in vain\n${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// A loopback TCP relay between xnode and the lab's API server, so a test can
// make the API hang (connections accepted, nothing relayed either way) or go
// down (listener closed, connections reset) in the middle of a check. TLS
// passes through untouched: the lab's certificate is for 127.0.0.1.
import { createServer, connect, type Server, type Socket } from "node:net";

export type ProxyMode = "relay" | "hang" | "down";

export class TcpProxy {
  private mode: ProxyMode = "relay";
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(0, target);
    const port = await proxy.listen(0);
    Object.assign(proxy, { port });
    return proxy;
  }

  private listen(port: number): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === "hang") return; // accepted, never answered
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
  }

  /** hang: open connections stop relaying and new ones are never answered; down: nothing listens. */
  async set(mode: ProxyMode): Promise<void> {
    const was = this.mode;
    this.mode = mode;
    if (mode === "hang") for (const s of this.sockets) s.unpipe().pause();
    if (mode === "down") await this.close();
    if (was === "down" && mode !== "down") await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

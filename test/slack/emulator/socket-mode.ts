// Slack's Socket Mode, emulated on the emulator's own port. As Slack does it:
// apps.connections.open, called with an app-level token (xapp-…), answers a
// one-time ws:// URL; a connection to it gets `hello`; envelopes
// (slash_commands, interactive, events_api) carry an envelope_id the app
// acknowledges with `{ envelope_id, payload? }`, within 3 s or the user sees
// a timeout; `disconnect` (refresh_requested, link_disabled, warning) tells
// the app to open a new connection.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { MethodHandler } from "./api-call.js";

export const OPEN_METHOD = "apps.connections.open";
/** How long Slack waits for an envelope's ack before telling the user the app did not answer. */
export const ACK_DEADLINE_MS = 3000;

export type EnvelopeType = "slash_commands" | "interactive" | "events_api";
export type DisconnectReason = "refresh_requested" | "link_disabled" | "warning";

/** One envelope sent to the app, and what became of its ack. */
export interface Delivery {
  envelopeId: string;
  type: EnvelopeType;
  /** which connection (SocketConnection.id) carried it */
  connection: number;
  sentAt: number;
  ackedAt?: number;
  /** what the app put in its ack (a slash command's immediate answer) */
  ackPayload?: Record<string, unknown>;
  /** no ack within ACK_DEADLINE_MS; an ack that comes later still sets ackedAt */
  late: boolean;
}

export interface SocketConnection {
  id: number;
  openedAt: number;
  closedAt?: number;
  /** disconnect messages sent on it, in order */
  disconnects: DisconnectReason[];
}

/**
 * Slack's rule for the token a method is called with: an app-level token may
 * only open connections, and opening one needs an app-level token.
 */
export function tokenRefusal(method: string, token: string): string | undefined {
  const app = token.startsWith("xapp-");
  if (!app && !token.startsWith("xoxb-")) return "invalid_auth";
  return (method === OPEN_METHOD) === app ? undefined : "not_allowed_token_type";
}

export class SocketModeServer {
  readonly connections: SocketConnection[] = [];
  readonly deliveries: Delivery[] = [];
  /** acks naming an envelope that was never sent (or was acked already) */
  readonly strayAcks: unknown[] = [];
  private readonly sockets = new Map<number, WebSocket>();
  private readonly tickets = new Set<string>();
  private readonly waiting = new Map<string, (d: Delivery) => void>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private origin = "";
  private opened = 0;

  constructor(private readonly appId: string) {}

  /** The apps.connections.open handler (the HTTP layer has checked the token's kind). */
  readonly open: MethodHandler = () => {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return { url: `${this.origin.replace(/^http/, "ws")}/link/?ticket=${ticket}&app_id=${this.appId}` };
  };

  /** Takes WebSocket upgrades on the emulator's HTTP server; a URL is good for one connection. */
  attach(server: Server, origin: string): void {
    this.origin = origin;
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? "/", origin);
      const ticket = url.searchParams.get("ticket") ?? "";
      if (url.pathname !== "/link/" || !this.tickets.delete(ticket)) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  /** Connections open now, oldest first. */
  openConnections(): SocketConnection[] {
    return this.connections.filter((c) => c.closedAt === undefined);
  }

  /**
   * Sends an envelope on the newest open connection and resolves when the app
   * acks it, or after ACK_DEADLINE_MS with `late: true`.
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>): Promise<Delivery> {
    const connection = this.openConnections().at(-1);
    if (!connection) return Promise.reject(new Error("no Socket Mode connection is open"));
    const delivery: Delivery = { envelopeId: randomUUID(), type, connection: connection.id, sentAt: Date.now(), late: false };
    this.deliveries.push(delivery);
    const envelope = {
      envelope_id: delivery.envelopeId,
      type,
      payload,
      accepts_response_payload: type === "slash_commands",
      ...(type === "events_api" ? { retry_attempt: 0, retry_reason: "" } : {}),
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        delivery.late = true;
        resolve(delivery);
      }, ACK_DEADLINE_MS);
      this.waiting.set(delivery.envelopeId, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
      this.sockets.get(connection.id)!.send(JSON.stringify(envelope));
    });
  }

  /** Asks every open connection's client to reconnect, the way Slack does before it recycles a host. */
  disconnect(reason: DisconnectReason): void {
    for (const c of this.openConnections()) {
      c.disconnects.push(reason);
      this.sockets.get(c.id)!.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-emulated" } }));
    }
  }

  /** Forgets deliveries and acks; open connections stay. */
  clear(): void {
    this.deliveries.length = 0;
    this.strayAcks.length = 0;
    this.connections.splice(0, this.connections.length, ...this.openConnections());
  }

  /**
   * Closes with a close frame, as Slack does when it goes away: a client whose
   * socket is cut mid-handshake keeps a 30 s timer (and the test process) alive.
   */
  async close(): Promise<void> {
    await Promise.all(
      [...this.sockets.values()].map(
        (ws) =>
          new Promise<void>((resolve) => {
            const cut = setTimeout(() => ws.terminate(), 1000);
            ws.once("close", () => (clearTimeout(cut), resolve()));
            ws.close(1001, "going away");
          }),
      ),
    );
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    const connection: SocketConnection = { id: ++this.opened, openedAt: Date.now(), disconnects: [] };
    this.connections.push(connection);
    this.sockets.set(connection.id, ws);
    ws.on("message", (data, isBinary) => this.receive(data, isBinary));
    ws.on("close", () => {
      connection.closedAt = Date.now();
      this.sockets.delete(connection.id);
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.openConnections().length,
        debug_info: { host: "applink-emulated", build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
  }

  private receive(data: RawData, isBinary: boolean): void {
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(isBinary ? "" : data.toString()) as typeof message;
    } catch {
      this.strayAcks.push(data.toString());
      return;
    }
    const delivery = this.deliveries.find((d) => d.envelopeId === message.envelope_id && d.ackedAt === undefined);
    if (!delivery) {
      this.strayAcks.push(message);
      return;
    }
    delivery.ackedAt = Date.now();
    if (message.payload && typeof message.payload === "object") delivery.ackPayload = message.payload as Record<string, unknown>;
    this.waiting.get(delivery.envelopeId)?.(delivery);
    this.waiting.delete(delivery.envelopeId);
  }
}

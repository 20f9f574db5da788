// Whether Slack can reach the bot, for its probes. Ready: connected now (in
// Socket Mode the socket is open; in HTTP mode auth.test passed and the
// receiver listens). Live: not stuck, i.e. a socket that went down came back
// within `stuckAfterMs`; Bolt's client has been known to stop reconnecting
// (slackapi/bolt-js#929), and only a restart brings such a bot back.
import type { HealthCheck } from "../ops/ops-server.js";

/** What Socket Mode's client reports: the SocketModeClient's lifecycle events, and its current socket. */
interface SocketEvents {
  on(event: string, listener: () => void): unknown;
  websocket?: { isActive(): boolean };
}

export const SOCKET_STUCK_MS = 5 * 60_000;

export class SlackConnection {
  private connected = false;
  private downSince: number;

  constructor(
    private readonly stuckAfterMs = SOCKET_STUCK_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.downSince = now();
  }

  up(): void {
    this.connected = true;
  }

  down(): void {
    if (this.connected) this.downSince = this.now();
    this.connected = false;
  }

  watch(client: SocketEvents): void {
    client.on("connected", () => this.up());
    // The old socket's close can arrive after the new one said hello (a `disconnect` from Slack):
    // as the client itself does, only a close while no socket is open means down.
    for (const lost of ["close", "disconnected", "reconnecting"])
      client.on(lost, () => {
        if (!client.websocket?.isActive()) this.down();
      });
  }

  readonly ready: HealthCheck = { name: "slack", ok: () => this.connected };
  readonly live: HealthCheck = { name: "slack-socket", ok: () => this.connected || this.now() - this.downSince < this.stuckAfterMs };
}

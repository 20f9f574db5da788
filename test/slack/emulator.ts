// A local stand-in for Slack's Web API, for tests that run the real WebClient
// and Bolt against it: `clientOptions: { slackApiUrl: emulator.url }`.
// It keeps channel state (members, messages, threads, files), validates
// messages and enforces membership, scopes and rate limits the way a
// workspace does, records every call and can be told to fail the next ones.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Directory } from "./emulator/api-call.js";
import { chatMethods } from "./emulator/chat-methods.js";
import { directoryMethods } from "./emulator/directory-methods.js";
import { FaultPlan, type Fault } from "./emulator/faults.js";
import { RateLimiter, type RateLimitOptions } from "./emulator/rate-limits.js";
import { fileMethods } from "./emulator/file-methods.js";
import { createRequestHandler, type RecordedCall } from "./emulator/http-handler.js";
import { OPEN_METHOD, SocketModeServer } from "./emulator/socket-mode.js";
import { Workspace, type EmulatedChannel, type EmulatedFile, type EmulatedMessage } from "./emulator/workspace.js";
import { brief, pollUntil } from "./poll-until.js";

export type { Fault } from "./emulator/faults.js";
export type { RateLimitOptions } from "./emulator/rate-limits.js";
export { UPLOAD_STEP, type RecordedCall } from "./emulator/http-handler.js";
export type { EmulatedFile, EmulatedMessage } from "./emulator/workspace.js";
export type { Delivery, DisconnectReason, EnvelopeType, SocketConnection, SocketModeServer } from "./emulator/socket-mode.js";

export const EMULATED_TEAM_ID = "T0EMU0001";
export const EMULATED_BOT_USER_ID = "U0EMUBOT1";
/** The bot scopes of deploy/slack-app-manifest.yaml. */
export const MANIFEST_SCOPES = ["chat:write", "commands", "files:write", "usergroups:read"];

/** A channel in the workspace; by default public, not archived, the bot a member. */
export interface ChannelOptions {
  member?: boolean;
  private?: boolean;
  archived?: boolean;
}
/** the app id Slack puts in payloads (api_app_id) and Socket Mode URLs */
export const EMULATED_APP_ID = "A0EMUAPP1";

export interface SlackEmulatorOptions {
  teamId?: string;
  botUserId?: string;
  /** users.info answers for these ids (and for the bot user). */
  users?: Record<string, { name: string; isAdmin?: boolean }>;
  /** usergroups.users.list answers for these group ids. */
  usergroups?: Record<string, string[]>;
  /** The workspace's channels: posting anywhere else is channel_not_found, as in Slack. */
  channels?: Record<string, ChannelOptions>;
  /** The bot token's scopes (default MANIFEST_SCOPES); add "chat:write.public" to post in public channels without joining. */
  scopes?: string[];
  /** "free": user groups answer plan_upgrade_required (default "paid"). */
  plan?: "free" | "paid";
  /** Slack's rate limits, on by default; false turns them off. */
  rateLimits?: RateLimitOptions | false;
}

export class SlackEmulator {
  constructor(
    /** Base for `slackApiUrl`, ending with `/api/`. */
    readonly url: string,
    /** Every request, in arrival order, with its outcome. */
    readonly calls: RecordedCall[],
    readonly directory: Readonly<Directory>,
    private readonly server: Server,
    private readonly workspace: Workspace,
    private readonly faults: FaultPlan,
    /** Socket Mode: apps.connections.open with an xapp- token, then envelopes over ws:// on this port. */
    readonly socketMode: SocketModeServer,
    private readonly limiter: RateLimiter | undefined,
  ) {}

  /** Adds or changes a channel (e.g. the bot is invited: `{ member: true }`). */
  setChannel(id: string, opts: ChannelOptions = {}): void {
    this.workspace.channels.set(id, channelState(id, opts));
  }

  /** A channel as the workspace has it now, if it has it. */
  channel(id: string): EmulatedChannel | undefined {
    const found = this.workspace.channels.get(id);
    return found && { ...found };
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** A channel's messages as they are now (after updates), thread replies included, oldest first. */
  messages(channel: string): EmulatedMessage[] {
    return this.workspace.messages.filter((m) => m.channel === channel).map((m) => structuredClone(m));
  }

  /** A thread's root followed by its replies; empty when there is no such root. */
  thread(channel: string, ts: string): EmulatedMessage[] {
    return this.messages(channel).filter((m) => m.ts === ts || m.thread_ts === ts);
  }

  /** Files completed by files.completeUploadExternal, optionally only those shared to a channel. */
  files(channel?: string): EmulatedFile[] {
    return this.workspace.files
      .filter((f) => channel === undefined || f.channel_id === channel)
      .map((f) => ({ ...structuredClone(f), bytes: Buffer.from(f.bytes) }));
  }

  /** The next `times` calls of `method` fail this way (UPLOAD_STEP fails the bytes POST). */
  failNext(method: string, fault: Fault, times = 1): void {
    this.faults.add(method, fault, times);
  }

  /** Resolves with the predicate's first truthy result; rejects listing what was recorded. */
  waitFor<T>(predicate: (emulator: this) => T | undefined | null | false, timeoutMs = 3000): Promise<T> {
    return pollUntil(
      () => predicate(this),
      timeoutMs,
      () => this.describe(),
    );
  }

  /** Forgets calls, messages, files, queued faults and rate-limit counts; channels, users, groups and ids to come stay. */
  reset(): void {
    this.calls.length = 0;
    this.workspace.clear();
    this.faults.clear();
    this.limiter?.clear();
    this.socketMode.clear();
  }

  async close(): Promise<void> {
    await this.socketMode.close();
    const closed = new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
    this.server.closeAllConnections();
    await closed;
  }

  private describe(): string {
    const calls = this.calls.map((c) => `  ${c.method} ${brief(c.args)} → ${c.error ?? "ok"}`);
    const messages = this.workspace.messages.map(
      (m) => `  ${m.channel} ${m.ts}${m.thread_ts && m.thread_ts !== m.ts ? ` (in ${m.thread_ts})` : ""} ${brief(m.text, 80)}`,
    );
    return [`recorded calls (${calls.length}):`, ...calls, `messages (${messages.length}):`, ...messages].join("\n");
  }
}

export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const directory: Directory = {
    teamId: opts.teamId ?? EMULATED_TEAM_ID,
    botUserId: opts.botUserId ?? EMULATED_BOT_USER_ID,
    botId: "B0EMUBOT1",
    users: opts.users ?? {},
    usergroups: opts.usergroups ?? {},
    scopes: opts.scopes ?? MANIFEST_SCOPES,
    plan: opts.plan ?? "paid",
  };
  const workspace = new Workspace();
  for (const [id, channel] of Object.entries(opts.channels ?? {})) workspace.channels.set(id, channelState(id, channel));
  const limiter = opts.rateLimits === false ? undefined : new RateLimiter(opts.rateLimits);
  const faults = new FaultPlan();
  const calls: RecordedCall[] = [];
  const socketMode = new SocketModeServer(EMULATED_APP_ID);
  let origin = "";
  const server = createServer(
    createRequestHandler({
      methods: { ...chatMethods, ...directoryMethods, ...fileMethods, [OPEN_METHOD]: socketMode.open },
      context: { workspace, directory, uploadUrl: (fileId) => `${origin}/upload/${fileId}` },
      faults,
      ...(limiter ? { limiter } : {}),
      record: (call) => calls.push(call),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  socketMode.attach(server, origin);
  return new SlackEmulator(`${origin}/api/`, calls, directory, server, workspace, faults, socketMode, limiter);
}

function channelState(id: string, opts: ChannelOptions): EmulatedChannel {
  return { id, isPrivate: opts.private ?? false, isArchived: opts.archived ?? false, botIsMember: opts.member ?? true };
}

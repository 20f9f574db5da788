// What a Web API method handler receives, and how it refuses a call: Slack
// answers refusals with HTTP 200 and `{ ok: false, error }`, so handlers throw
// SlackApiError and the HTTP layer turns it into that body.
import type { Workspace } from "./workspace.js";

export type Args = Record<string, unknown>;

export interface Directory {
  teamId: string;
  botUserId: string;
  botId: string;
  users: Record<string, { name: string; isAdmin?: boolean }>;
  usergroups: Record<string, string[]>;
  /** the bot token's scopes: a method that needs another answers missing_scope */
  scopes: readonly string[];
  /** user groups are a paid feature: on "free", usergroups.* answer plan_upgrade_required */
  plan: "free" | "paid";
}

export interface ApiContext {
  workspace: Workspace;
  directory: Directory;
  /** Where files.getUploadURLExternal tells the client to send a file's bytes. */
  uploadUrl(fileId: string): string;
}

export type MethodHandler = (args: Args, ctx: ApiContext) => Record<string, unknown>;

export class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
    this.name = "SlackApiError";
  }
}

export function fail(code: string, extra?: Record<string, unknown>): never {
  throw new SlackApiError(code, extra);
}

/** A string argument, or the error Slack gives when it is missing or empty. */
export function requiredString(args: Args, name: string, errorCode: string): string {
  const value = args[name];
  if (typeof value !== "string" || value === "") fail(errorCode);
  return value;
}

/** Slack's answer to a token without the scope a method needs. */
export function requireScope(directory: Directory, scope: string): void {
  if (!directory.scopes.includes(scope)) fail("missing_scope", { needed: scope, provided: directory.scopes.join(",") });
}

export function optionalString(args: Args, name: string): string | undefined {
  const value = args[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

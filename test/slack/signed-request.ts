// Calling the bot the way Slack does: a form-encoded POST signed with the
// app's signing secret (v0 HMAC-SHA256 over "v0:<timestamp>:<body>"), or a
// deliberately bad one for the negative cases.
import { createHmac } from "node:crypto";
import { blockActionsForm, slashCommandForm, type BlockActionInput, type SlashCommandInput } from "./slack-payloads.js";

export type { BlockActionInput, SlashCommandInput } from "./slack-payloads.js";

export function signSlackRequest(signingSecret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const hash = createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex");
  return { "X-Slack-Request-Timestamp": String(timestamp), "X-Slack-Signature": `v0=${hash}` };
}

export interface SendOptions {
  /**
   * bad-signature: signed with another secret; stale-timestamp / future-timestamp: correctly signed,
   * 6 minutes old or ahead (Slack allows 5 either way); no-signature: the headers left out.
   */
  tamper?: "bad-signature" | "stale-timestamp" | "future-timestamp" | "no-signature";
}

export interface BotResponse {
  status: number;
  contentType: string | null;
  /** Parsed JSON when the bot said JSON, the text otherwise, undefined when empty. */
  body: unknown;
}

export async function postSignedForm(url: string, signingSecret: string, body: string, opts: SendOptions = {}): Promise<BotResponse> {
  const now = Math.floor(Date.now() / 1000);
  const secret = opts.tamper === "bad-signature" ? `${signingSecret}-not` : signingSecret;
  const timestamp = opts.tamper === "stale-timestamp" ? now - 6 * 60 : opts.tamper === "future-timestamp" ? now + 6 * 60 : now;
  const signature = opts.tamper === "no-signature" ? {} : signSlackRequest(secret, body, timestamp);
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...signature },
    body,
  });
  const contentType = res.headers.get("content-type");
  const text = await res.text();
  const isJson = contentType?.startsWith("application/json") ?? false;
  return { status: res.status, contentType, body: text === "" ? undefined : isJson ? JSON.parse(text) : text };
}

/** botUrl is the Bolt endpoint, e.g. http://127.0.0.1:<port>/slack/events. */
export function postSlashCommand(botUrl: string, signingSecret: string, command: SlashCommandInput, opts?: SendOptions): Promise<BotResponse> {
  return postSignedForm(botUrl, signingSecret, slashCommandForm(command), opts);
}

export function postBlockAction(botUrl: string, signingSecret: string, action: BlockActionInput, opts?: SendOptions): Promise<BotResponse> {
  return postSignedForm(botUrl, signingSecret, blockActionsForm(action), opts);
}

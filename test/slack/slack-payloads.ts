// The bodies Slack sends to an app: a slash command (form fields) and a
// block_actions interaction (form field `payload` holding JSON).
import { EMULATED_TEAM_ID } from "./emulator.js";

// Slack always sends a response_url. When a test gives none, this one is on
// loopback and refuses connections, so a bot that answers through it fails at
// once instead of reaching for the internet.
const NOWHERE = "http://127.0.0.1:9/response-url-not-set";

export interface SlashCommandInput {
  command: string;
  text: string;
  user_id: string;
  user_name?: string;
  channel_id: string;
  team_id?: string;
  trigger_id?: string;
  response_url?: string;
}

/** A slash command's fields: form-encoded over HTTP, the envelope's payload in Socket Mode. */
export function slashCommandPayload(input: SlashCommandInput): Record<string, string> {
  return {
    token: "emulated-verification-token",
    team_id: input.team_id ?? EMULATED_TEAM_ID,
    team_domain: "emulated",
    channel_id: input.channel_id,
    channel_name: "emulated-channel",
    user_id: input.user_id,
    user_name: input.user_name ?? input.user_id.toLowerCase(),
    command: input.command,
    text: input.text,
    api_app_id: "A0EMUAPP1",
    is_enterprise_install: "false",
    response_url: input.response_url ?? NOWHERE,
    trigger_id: input.trigger_id ?? "1700000000.1.emulated-trigger",
  };
}

export function slashCommandForm(input: SlashCommandInput): string {
  return new URLSearchParams(slashCommandPayload(input)).toString();
}

export interface BlockActionInput {
  user_id: string;
  user_name?: string;
  channel_id: string;
  /** The message holding the buttons, and its thread's root when it is a reply. */
  message_ts: string;
  thread_ts?: string;
  /** What the message showed; Bolt hands it to listeners as body.message. */
  message?: { text?: string; blocks?: unknown[] };
  actions: Array<{ action_id: string; block_id: string; value?: string; text?: string }>;
  team_id?: string;
  trigger_id?: string;
  response_url?: string;
}

/** A block_actions interaction: JSON in the form field `payload` over HTTP, the envelope's payload in Socket Mode. */
export function blockActionsPayload(input: BlockActionInput): Record<string, unknown> {
  const teamId = input.team_id ?? EMULATED_TEAM_ID;
  const actionTs = `${Math.floor(Date.now() / 1000)}.000001`;
  return {
    type: "block_actions",
    user: {
      id: input.user_id,
      username: input.user_name ?? input.user_id.toLowerCase(),
      name: input.user_name ?? input.user_id.toLowerCase(),
      team_id: teamId,
    },
    api_app_id: "A0EMUAPP1",
    token: "emulated-verification-token",
    container: {
      type: "message",
      message_ts: input.message_ts,
      channel_id: input.channel_id,
      is_ephemeral: false,
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
    },
    trigger_id: input.trigger_id ?? "1700000000.2.emulated-trigger",
    team: { id: teamId, domain: "emulated" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel_id, name: "emulated-channel" },
    message: {
      type: "message",
      ts: input.message_ts,
      text: input.message?.text ?? "",
      ...(input.message?.blocks ? { blocks: input.message.blocks } : {}),
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
    },
    state: { values: {} },
    response_url: input.response_url ?? NOWHERE,
    actions: input.actions.map((a) => ({
      type: "button",
      action_id: a.action_id,
      block_id: a.block_id,
      text: { type: "plain_text", text: a.text ?? a.action_id, emoji: true },
      ...(a.value !== undefined ? { value: a.value } : {}),
      action_ts: actionTs,
    })),
  };
}

export function blockActionsForm(input: BlockActionInput): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionsPayload(input)) }).toString();
}

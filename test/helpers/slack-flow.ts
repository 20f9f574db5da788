// Steps a person takes in Slack, for end-to-end tests: run a check and wait for
// its whole report, find a finding's buttons, click one like Slack would.
import type { EmulatedMessage, SlackEmulator } from "../slack/emulator.js";
import { pollUntil } from "../slack/poll-until.js";
import type { ResponseUrlSink } from "../slack/response-url-sink.js";
import { postBlockAction, postSlashCommand, type SlashCommandInput } from "../slack/signed-request.js";
import { SIGNING_SECRET } from "./xnode-fixture.js";

export interface ButtonRef {
  message: EmulatedMessage;
  blockId: string;
  actionId: string;
  value: string;
  text: string;
}

export function textOf(m: EmulatedMessage): string {
  return `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;
}

export function buttonsOf(m: EmulatedMessage): ButtonRef[] {
  return ((m.blocks ?? []) as { type: string; block_id: string; elements?: { action_id: string; value?: string; text?: { text: string } }[] }[])
    .filter((b) => b.type === "actions")
    .flatMap((b) =>
      (b.elements ?? []).map((e) => ({ message: m, blockId: b.block_id, actionId: e.action_id, value: e.value ?? "", text: e.text?.text ?? "" })),
    );
}

/** Runs `/xnode check <cluster>` and resolves with the root message and the complete report thread. */
export async function checkAndWait(
  emulator: SlackEmulator,
  botUrl: string,
  /** causes: the thread's messages after the summary and the matrix, one per root cause */
  opts: { cluster: string; user: string; channel: string; causes: number },
): Promise<{ root: EmulatedMessage; replies: EmulatedMessage[] }> {
  return checkThrough(emulator, opts, async (command) => {
    const res = await postSlashCommand(botUrl, SIGNING_SECRET, command);
    if (res.status !== 200) throw new Error(`slash command answered ${res.status}`);
  });
}

/** checkAndWait with the command sent by `send`: a signed HTTP request, or a Socket Mode envelope. */
export async function checkThrough(
  emulator: SlackEmulator,
  opts: { cluster: string; user: string; channel: string; causes: number },
  send: (command: SlashCommandInput) => Promise<void>,
): Promise<{ root: EmulatedMessage; replies: EmulatedMessage[] }> {
  const seen = new Set(emulator.messages(opts.channel).map((m) => m.ts));
  await send({ command: "/xnode", text: `check ${opts.cluster}`, user_id: opts.user, channel_id: opts.channel });
  const root = await emulator.waitFor(
    () => emulator.messages(opts.channel).find((m) => !seen.has(m.ts) && !m.thread_ts && textOf(m).includes(opts.user)),
    10_000,
  );
  const replies = await emulator.waitFor(() => {
    const r = emulator.thread(opts.channel, root.ts).filter((m) => m.ts !== root.ts);
    return r.length >= 2 + opts.causes ? r : undefined;
  }, 60_000);
  return { root, replies };
}

export function click(botUrl: string, button: ButtonRef, user: string, responseUrl?: string) {
  return postBlockAction(botUrl, SIGNING_SECRET, {
    user_id: user,
    channel_id: button.message.channel,
    message_ts: button.message.ts,
    ...(button.message.thread_ts ? { thread_ts: button.message.thread_ts } : {}),
    message: { text: button.message.text, blocks: button.message.blocks ?? [] },
    actions: [{ action_id: button.actionId, block_id: button.blockId, value: button.value, text: button.text }],
    ...(responseUrl ? { response_url: responseUrl } : {}),
  });
}

let commandSeq = 0;

/**
 * Runs `/xnode <text>` and resolves with what its user sees: the ack's own
 * answer, or else the first post to its response URL (commands that read
 * Redis ack at once and answer there), and how long the ack took.
 */
export async function commandAnswer(
  botUrl: string,
  sink: ResponseUrlSink,
  input: { text: string; user: string; channel: string },
  timeoutMs = 10_000,
): Promise<{ ackMs: number; ackBody: unknown; answer: unknown }> {
  const path = `/response-url?command=${++commandSeq}`;
  const started = Date.now();
  const res = await postSlashCommand(botUrl, SIGNING_SECRET, {
    command: "/xnode",
    text: input.text,
    user_id: input.user,
    channel_id: input.channel,
    response_url: `${new URL(sink.url).origin}${path}`,
  });
  const ackMs = Date.now() - started;
  if (res.status !== 200) throw new Error(`/xnode ${input.text} answered ${res.status}`);
  if (res.body !== undefined) return { ackMs, ackBody: res.body, answer: res.body };
  const post = await pollUntil(
    () => sink.posts.find((p) => p.path === path),
    timeoutMs,
    () => `no response_url post for /xnode ${input.text}`,
  );
  return { ackMs, ackBody: undefined, answer: post.body };
}

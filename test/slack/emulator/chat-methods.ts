// chat.* methods: messages live in the workspace, replies point at their
// thread's root, updates change the stored message in place. Posting needs
// the channel's permission (channel-access.ts).
import { fail, optionalString, requiredString, requireScope, type ApiContext, type Args, type MethodHandler } from "./api-call.js";
import { checkMessageContent } from "./block-kit-limits.js";
import { knownChannel, requirePostable } from "./channel-access.js";
import type { EmulatedMessage } from "./workspace.js";

/**
 * The root a reply goes under. Stricter than Slack on purpose: a thread_ts
 * that is not a root message of this channel is refused, because a bot that
 * replies to a ts it never posted has a bug worth seeing.
 */
export function threadRoot(ctx: ApiContext, channel: string, threadTs: string): EmulatedMessage {
  const root = ctx.workspace.find(channel, threadTs);
  if (!root || (root.thread_ts !== undefined && root.thread_ts !== root.ts)) fail("invalid_thread_ts");
  return root;
}

/** Stores a new message from the bot, as a reply when threadTs is given. */
export function storeMessage(ctx: ApiContext, channel: string, content: Partial<EmulatedMessage>, threadTs?: string): EmulatedMessage {
  const root = threadTs === undefined ? undefined : threadRoot(ctx, channel, threadTs);
  const message: EmulatedMessage = {
    type: "message",
    channel,
    ts: ctx.workspace.nextTs(),
    text: "",
    ...content,
    user: ctx.directory.botUserId,
    bot_id: ctx.directory.botId,
  };
  if (root) {
    message.thread_ts = root.ts;
    root.thread_ts = root.ts;
    root.reply_count = (root.reply_count ?? 0) + 1;
  }
  ctx.workspace.messages.push(message);
  return message;
}

function messageContent(args: Args): Partial<EmulatedMessage> {
  checkMessageContent(args.text, args.blocks, args.attachments);
  return {
    text: typeof args.text === "string" ? args.text : "",
    ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
    ...(Array.isArray(args.attachments) ? { attachments: args.attachments } : {}),
  };
}

const publicView = ({ channel: _channel, ...message }: EmulatedMessage) => message;

const postMessage: MethodHandler = (args, ctx) => {
  const channel = requiredString(args, "channel", "channel_not_found");
  requirePostable(ctx, channel);
  const message = storeMessage(ctx, channel, messageContent(args), optionalString(args, "thread_ts"));
  return { channel, ts: message.ts, message: publicView(message) };
};

// Slack keeps whatever the update leaves out; an empty blocks array clears blocks.
const update: MethodHandler = (args, ctx) => {
  const channel = requiredString(args, "channel", "channel_not_found");
  requireScope(ctx.directory, "chat:write");
  if (knownChannel(ctx, channel).isArchived) fail("is_archived");
  const ts = requiredString(args, "ts", "message_not_found");
  const message = ctx.workspace.find(channel, ts) ?? fail("message_not_found");
  const text = args.text ?? message.text;
  const blocks = args.blocks ?? message.blocks;
  const attachments = args.attachments ?? message.attachments;
  checkMessageContent(text, blocks, attachments);
  message.text = typeof text === "string" ? text : "";
  if (Array.isArray(blocks) && blocks.length > 0) message.blocks = blocks;
  else delete message.blocks;
  if (Array.isArray(attachments)) message.attachments = attachments;
  message.edited = { user: ctx.directory.botUserId, ts: ctx.workspace.nextTs() };
  return { channel, ts, text: message.text, message: publicView(message) };
};

const getPermalink: MethodHandler = (args, ctx) => {
  const channel = requiredString(args, "channel", "channel_not_found");
  knownChannel(ctx, channel);
  const ts = requiredString(args, "message_ts", "message_not_found");
  if (!ctx.workspace.find(channel, ts)) fail("message_not_found");
  return { channel, permalink: `https://emulated.slack/archives/${channel}/p${ts.replace(".", "")}` };
};

export const chatMethods: Record<string, MethodHandler> = {
  "chat.postMessage": postMessage,
  "chat.update": update,
  "chat.getPermalink": getPermalink,
};

// What xnode needs from Slack's Web API, as a small interface: workers post
// and update through it, tests give it the real WebClient on an emulator.
import type { types } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { XnodeError } from "../errors.js";

export interface SlackMessage {
  text: string;
  /** the renderers' blocks, or blocks Slack sent back (types.Block) */
  blocks?: types.AnyBlock[];
}

export interface SlackPort {
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  permalink(channel: string, ts: string): Promise<string | undefined>;
  uploadText(channel: string, threadTs: string, filename: string, title: string, content: string): Promise<void>;
  usergroupMembers(groupId: string): Promise<string[]>;
}

/** Slack's "you may not post there" answers, as an error that says what to do; anything else as it came. */
function channelRefusal(err: unknown, channel: string): unknown {
  const code = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
  if (code !== "not_in_channel" && code !== "channel_not_found" && code !== "is_archived") return err;
  const why = code === "is_archived" ? "the channel is archived" : "xnode is not a member of this channel";
  return new XnodeError(
    "SLACK_NOT_IN_CHANNEL",
    `cannot post in ${channel}: ${why} (Slack: ${code})`,
    "Invite the bot with /invite @xnode (or give the app the chat:write.public scope), then run the command again.",
    {
      cause: err,
    },
  );
}

export function webApiSlack(client: WebClient): SlackPort {
  return {
    async post(channel, message, threadTs) {
      try {
        const res = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) });
        return { channel: res.channel ?? channel, ts: res.ts! };
      } catch (err) {
        throw channelRefusal(err, channel);
      }
    },
    async update(channel, ts, message) {
      await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks ?? [] });
    },
    async permalink(channel, ts) {
      try {
        return (await client.chat.getPermalink({ channel, message_ts: ts })).permalink;
      } catch {
        return undefined; // a link is a convenience; the answer still goes out without it
      }
    },
    async uploadText(channel, threadTs, filename, title, content) {
      await client.files.uploadV2({ channel_id: channel, thread_ts: threadTs, filename, title, content });
    },
    async usergroupMembers(groupId) {
      return (await client.usergroups.users.list({ usergroup: groupId })).users ?? [];
    },
  };
}

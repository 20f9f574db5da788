// What xnode needs from Slack's Web API, as a small interface: workers post
// and update through it, tests give it the real WebClient on an emulator.
import type { types } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";

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

export function webApiSlack(client: WebClient): SlackPort {
  return {
    async post(channel, message, threadTs) {
      const res = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) });
      return { channel: res.channel ?? channel, ts: res.ts! };
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

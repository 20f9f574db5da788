// What xnode needs from Slack's Web API, as a small interface: workers post
// and update through it, tests give it the real WebClient on an emulator.
import type { types } from "@slack/bolt";
import { ErrorCode, type WebClient } from "@slack/web-api";
import { XnodeError } from "../errors.js";

export interface SlackMessage {
  text: string;
  /** the renderers' blocks, or blocks Slack sent back (types.Block) */
  blocks?: types.AnyBlock[];
}

/** A file to upload: text (a report, a CSV) or bytes (a picture). */
export interface SlackFile {
  filename: string;
  title: string;
  content: string | Buffer;
}

export interface SlackPort {
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  permalink(channel: string, ts: string): Promise<string | undefined>;
  /** the files shared together, as one message in the thread */
  uploadFiles(channel: string, threadTs: string, files: readonly SlackFile[]): Promise<void>;
  usergroupMembers(groupId: string): Promise<string[]>;
}

/** The platform error code of a WebClient failure, and the fields Slack sent with it. */
function refusalOf(err: unknown): { code?: unknown; needed?: unknown; retryAfter?: unknown; clientCode?: unknown } {
  const e = err as { code?: unknown; retryAfter?: unknown; data?: { error?: unknown; needed?: unknown } } | undefined;
  return { code: e?.data?.error, needed: e?.data?.needed, retryAfter: e?.retryAfter, clientCode: e?.code };
}

/** missing_scope as an error naming the scope; anything else as it came. */
function scopeRefusal(err: unknown): unknown {
  const { code, needed } = refusalOf(err);
  if (code !== "missing_scope") return err;
  const scope = typeof needed === "string" && needed ? needed : "a needed";
  return new XnodeError(
    "SLACK_SCOPE_MISSING",
    `xnode lacks the ${scope} scope`,
    "add it to the app's bot token scopes (OAuth & Permissions) and reinstall the app",
    { cause: err },
  );
}

/** Why a user group's members could not be read, in words an approver can act on. */
function lookupRefusal(err: unknown, groupId: string): unknown {
  const { code, retryAfter, clientCode } = refusalOf(err);
  const failed = (message: string, hint: string) => new XnodeError("SLACK_LOOKUP_FAILED", message, hint, { cause: err });
  if (code === "plan_upgrade_required")
    return failed("this Slack workspace's plan has no user groups", "list approvers by user id under approvals.approvers.users in xnode's config");
  if (clientCode === ErrorCode.RateLimitedError || code === "ratelimited")
    return failed("Slack rate-limited the user group lookup", `try again in ${typeof retryAfter === "number" ? retryAfter : 60} s`);
  if (code === "no_such_subteam") return failed(`user group ${groupId} does not exist`, "fix approvals.approvers.usergroups in xnode's config");
  return scopeRefusal(err);
}

/** Slack's "you may not post there" answers, as an error that says what to do; anything else as it came. */
function channelRefusal(err: unknown, channel: string): unknown {
  const code = refusalOf(err).code;
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

/**
 * `lookups` answers usergroups.users.list: give it a client with
 * rejectRateLimitedCalls, so a rate limit is said to the clicker at once
 * instead of making them wait out a Tier 2 minute.
 */
export function webApiSlack(client: WebClient, lookups: WebClient = client): SlackPort {
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
    async uploadFiles(channel, threadTs, files) {
      const file_uploads = files.map(({ filename, title, content }) =>
        typeof content === "string" ? { filename, title, content } : { filename, title, file: content },
      );
      try {
        await client.files.uploadV2({ channel_id: channel, thread_ts: threadTs, file_uploads });
      } catch (err) {
        throw scopeRefusal(channelRefusal(err, channel));
      }
    },
    async usergroupMembers(groupId) {
      try {
        return (await lookups.usergroups.users.list({ usergroup: groupId })).users ?? [];
      } catch (err) {
        throw lookupRefusal(err, groupId);
      }
    },
  };
}

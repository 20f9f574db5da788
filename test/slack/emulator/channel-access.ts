// Who may post where, decided the way a workspace decides it: a channel the
// workspace does not have is channel_not_found; an archived one is_archived;
// one the bot was never invited to is not_in_channel, unless the app holds
// chat:write.public and the channel is public.
import { fail, requireScope, type ApiContext } from "./api-call.js";
import type { EmulatedChannel } from "./workspace.js";

export function knownChannel(ctx: ApiContext, id: string): EmulatedChannel {
  const channel = ctx.workspace.channels.get(id);
  // A private channel the bot is not in looks to it like no channel at all.
  if (!channel || (channel.isPrivate && !channel.botIsMember)) fail("channel_not_found");
  return channel;
}

/** Throws Slack's refusal when the bot may not post a message in `id`. */
export function requirePostable(ctx: ApiContext, id: string): EmulatedChannel {
  requireScope(ctx.directory, "chat:write");
  const channel = knownChannel(ctx, id);
  if (channel.isArchived) fail("is_archived");
  if (!channel.botIsMember && !ctx.directory.scopes.includes("chat:write.public")) fail("not_in_channel");
  return channel;
}

// The three steps behind WebClient's files.uploadV2: ask for an upload URL,
// POST the bytes there (receiveUpload), then complete, which shares the file
// into the channel or thread the way Slack does, as a message carrying it.
// Uploading needs files:write; sharing needs the channel's permission.
import { fail, optionalString, requiredString, requireScope, type ApiContext, type MethodHandler } from "./api-call.js";
import { requirePostable } from "./channel-access.js";
import { storeMessage, threadRoot } from "./chat-methods.js";

const getUploadURLExternal: MethodHandler = (args, ctx) => {
  requireScope(ctx.directory, "files:write");
  const filename = requiredString(args, "filename", "invalid_arguments");
  const length = Number(args.length);
  if (!Number.isInteger(length) || length < 0) fail("invalid_arguments");
  const id = ctx.workspace.nextFileId();
  ctx.workspace.pendingUploads.set(id, { id, filename, length });
  return { upload_url: ctx.uploadUrl(id), file_id: id };
};

/** The bytes POSTed to an upload URL, kept as they came; false when no such upload was asked for or the length differs from the one announced. */
export function receiveUpload(ctx: ApiContext, fileId: string, bytes: Buffer): boolean {
  const pending = ctx.workspace.pendingUploads.get(fileId);
  if (!pending || bytes.length !== pending.length) return false;
  pending.bytes = Buffer.from(bytes);
  return true;
}

const completeUploadExternal: MethodHandler = (args, ctx) => {
  if (!Array.isArray(args.files) || args.files.length === 0) fail("invalid_arguments");
  const channel = optionalString(args, "channel_id");
  const threadTs = optionalString(args, "thread_ts");
  const initialComment = optionalString(args, "initial_comment");
  requireScope(ctx.directory, "files:write");
  // refuse before anything is recorded
  if (channel) requirePostable(ctx, channel);
  if (channel && threadTs) threadRoot(ctx, channel, threadTs);
  const files = args.files.map((entry: unknown) => {
    const { id, title } = (entry ?? {}) as { id?: unknown; title?: unknown };
    const pending = typeof id === "string" ? ctx.workspace.pendingUploads.get(id) : undefined;
    // Completing a file whose bytes never arrived is refused like an unknown id.
    if (!pending?.bytes) fail("file_not_found");
    return { pending, title: typeof title === "string" && title !== "" ? title : pending.filename };
  });
  const shared = files.map(({ pending, title }) => {
    ctx.workspace.pendingUploads.delete(pending.id);
    ctx.workspace.files.push({
      id: pending.id,
      name: pending.filename,
      title,
      bytes: pending.bytes!,
      content: pending.bytes!.toString("utf8"),
      ...(channel ? { channel_id: channel } : {}),
      ...(channel && threadTs ? { thread_ts: threadTs } : {}),
      ...(initialComment ? { initial_comment: initialComment } : {}),
    });
    return { id: pending.id, name: pending.filename, title };
  });
  if (channel) storeMessage(ctx, channel, { text: initialComment ?? "", files: shared }, threadTs);
  return { files: shared };
};

export const fileMethods: Record<string, MethodHandler> = {
  "files.getUploadURLExternal": getUploadURLExternal,
  "files.completeUploadExternal": completeUploadExternal,
};

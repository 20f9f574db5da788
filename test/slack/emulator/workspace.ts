// The emulated workspace's state: its channels (who is in them), channel
// messages (thread replies included) and uploaded files. Ids come from
// counters, so runs are reproducible.
export interface EmulatedMessage {
  type: "message";
  channel: string;
  ts: string;
  /** Set on replies, and on a parent once it has replies (as Slack does). */
  thread_ts?: string;
  reply_count?: number;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  files?: Array<{ id: string; name: string; title: string }>;
  user: string;
  bot_id: string;
  edited?: { user: string; ts: string };
}

/** A channel as Slack sees it from the bot's side. */
export interface EmulatedChannel {
  id: string;
  /** a private channel: only members see it (chat:write.public does not reach it) */
  isPrivate: boolean;
  isArchived: boolean;
  botIsMember: boolean;
}

/** A file between files.getUploadURLExternal and files.completeUploadExternal. */
export interface PendingUpload {
  id: string;
  filename: string;
  /** the length files.getUploadURLExternal was told; the bytes POSTed must match it */
  length: number;
  bytes?: Buffer;
}

export interface EmulatedFile {
  id: string;
  name: string;
  title: string;
  /** the bytes as uploaded (a picture stays binary) */
  bytes: Buffer;
  /** the bytes read as UTF-8, for text files */
  content: string;
  channel_id?: string;
  thread_ts?: string;
  initial_comment?: string;
}

const FIRST_TS_SECONDS = 1_700_000_000;

export class Workspace {
  /** Kept by clear(), like users and groups: channels are the workspace, not test traffic. */
  readonly channels = new Map<string, EmulatedChannel>();
  readonly messages: EmulatedMessage[] = [];
  readonly pendingUploads = new Map<string, PendingUpload>();
  readonly files: EmulatedFile[] = [];
  // Not reset by clear(): a ts or file id is never handed out twice, so a
  // stale reference from before a reset cannot match a new message.
  private tsSeq = 0;
  private fileSeq = 0;

  /** "1700000000.000100", "1700000000.000200", …: unique and increasing, like Slack's. */
  nextTs(): string {
    this.tsSeq += 1;
    const micros = this.tsSeq * 100;
    const seconds = FIRST_TS_SECONDS + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, "0")}`;
  }

  nextFileId(): string {
    this.fileSeq += 1;
    return `F0EMU${String(this.fileSeq).padStart(5, "0")}`;
  }

  find(channel: string, ts: string): EmulatedMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  clear(): void {
    this.messages.length = 0;
    this.pendingUploads.clear();
    this.files.length = 0;
  }
}

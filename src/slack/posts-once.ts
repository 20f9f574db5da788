// A job step that BullMQ runs again (its worker died, or lost its lock) must
// not post its messages twice. The step's n-th post is remembered by slot
// (`<step>:<n>`); run again, the same post edits the message it made before
// instead of adding one. Posting comes first and remembering second: a crash
// in between can duplicate one message, never lose one.
import type { SlackPort } from "./slack-port.js";

export interface PostedMessage {
  channel: string;
  ts: string;
}

/** Where the posts of job steps are remembered (src/store/post-ledger.ts keeps them in Redis). */
export interface PostLedger {
  get(slot: string): Promise<PostedMessage | undefined>;
  set(slot: string, posted: PostedMessage): Promise<void>;
}

/** `slack` for one run of one job step: `step` names the step (and its check or job) the same on every run. */
export function postsOnce(slack: SlackPort, ledger: PostLedger, step: string): SlackPort {
  let posts = 0;
  let uploads = 0;
  return {
    ...slack,
    async post(channel, message, threadTs) {
      const slot = `${step}:${posts++}`;
      const before = await ledger.get(slot);
      if (before) {
        await slack.update(before.channel, before.ts, message);
        return before;
      }
      const posted = await slack.post(channel, message, threadTs);
      await ledger.set(slot, posted);
      return posted;
    },
    async uploadFiles(channel, threadTs, files) {
      const slot = `${step}:upload:${uploads++}`;
      if (await ledger.get(slot)) return;
      await slack.uploadFiles(channel, threadTs, files);
      await ledger.set(slot, { channel, ts: threadTs });
    },
  };
}

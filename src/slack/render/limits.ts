// Slack's Block Kit limits (https://api.slack.com/reference/block-kit). Slack
// rejects a whole message when one of them is exceeded, so every renderer cuts
// to these itself rather than trusting the data to be small.
import { code } from "./mrkdwn.js";

export const MAX_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_FIELD_TEXT = 2000;
export const MAX_FIELDS = 10;
export const MAX_CONTEXT_ELEMENTS = 10;
export const MAX_HEADER_TEXT = 150;
export const MAX_BUTTON_TEXT = 75;
export const MAX_BUTTON_VALUE = 2000;
export const MAX_ACTION_ELEMENTS = 25;
export const MAX_CONFIRM_TITLE = 100;
export const MAX_CONFIRM_TEXT = 300;
export const MAX_CONFIRM_BUTTON = 30;
/**
 * All the text of one message's blocks together. Slack refuses more than about
 * 12-13k (msg_blocks_too_long; not documented, measured in slackapi/bolt-js#2509),
 * whatever the per-block limits allow; ours stays a margin below.
 */
export const MAX_MESSAGE_BLOCK_TEXT = 11_000;
/** Slack truncates the notification `text` past 40,000; ours is a one-liner, this only guards it. */
export const MAX_FALLBACK_TEXT = 3000;

/**
 * `text` if it fits in `max` characters, else its start plus `note`, in at most `max`.
 * Never leaves half an `&amp;` entity or half a surrogate pair at the cut.
 */
export function truncate(text: string, max: number, note = "…"): string {
  if (text.length <= max) return text;
  let head = text.slice(0, Math.max(0, max - note.length));
  head = head.replace(/&[a-z#0-9]*$/, "");
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return (head + note).slice(0, max);
}

export interface FittedLines {
  text: string;
  /** lines left out; 0 when everything fit */
  omitted: number;
}

/**
 * As many whole lines as fit in `max` characters together with the note about
 * the rest. A single line longer than the room is cut itself, so the first line
 * always shows.
 */
export function fitLines(lines: readonly string[], max: number, note: (omitted: number) => string): FittedLines {
  const all = lines.join("\n");
  if (all.length <= max) return { text: all, omitted: 0 };
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const room = max - used - note(lines.length - kept.length - 1).length - 2;
    if (line.length > room) {
      if (kept.length === 0 && room > 0) kept.push(truncate(line, room));
      break;
    }
    kept.push(line);
    used += line.length + 1;
  }
  const omitted = lines.length - kept.length;
  return { text: [...kept, note(omitted)].join("\n"), omitted };
}

/** The note that stands in for cut report detail, pointing at where the rest is. */
export function omittedNote(cluster: string, what: string): (omitted: number) => string {
  return (omitted) => `… ${omitted} more ${what} not shown; full report: ${code(`xnode check ${cluster} --json`)} or the attached file`;
}

/** The first `max` lines and, if any were dropped, one line from `note` saying how many. */
export function capLines(lines: readonly string[], max: number, note: (omitted: number) => string): { lines: string[]; cut: boolean } {
  if (lines.length <= max) return { lines: [...lines], cut: false };
  return { lines: [...lines.slice(0, max), note(lines.length - max)], cut: true };
}

// Slack mrkdwn: only &, < and > are control characters (they form links,
// mentions and entities), so every piece of data we did not write is escaped
// before it reaches a text object.

export function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function bold(text: string): string {
  return `*${escape(text)}*`;
}

export function italic(text: string): string {
  return `_${escape(text)}_`;
}

// Slack has no escape for a backtick inside code; a look-alike keeps the span closed.
const noBackticks = (text: string): string => text.replace(/`/g, "\u02cb");

/** Escaped text that is safe inside a code span or block. */
export function codeText(text: string): string {
  return escape(noBackticks(text));
}

export function code(text: string): string {
  return `\`${codeText(text)}\``;
}

/** A code block around text already passed through `codeText` (and perhaps cut to fit). */
export function fence(text: string): string {
  return `\`\`\`\n${text}\n\`\`\``;
}

export const FENCE_OVERHEAD = fence("").length;

/** `<@U123>` for a Slack user id; anything else is shown as text, never as markup. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escape(userId);
}

export function bullets(lines: readonly string[]): string[] {
  return lines.map((l) => `• ${escape(l)}`);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Escaped names joined by commas, the tail summarised past `max` so a big cluster stays one line. */
export function nameList(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map(escape).join(", ");
  return names.length > max ? `${shown} (+${names.length - max} more)` : shown;
}

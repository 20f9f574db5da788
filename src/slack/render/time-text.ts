// Durations and ages in the words a person scans for. The clock is always a
// parameter so the renderers stay pure.

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

/** "just now", "40 s ago", "12 min ago", "3 h ago", "2 d ago"; a time ahead of `now` (clock skew) reads "just now". */
export function formatAgo(then: Date | string, now: Date): string {
  const seconds = Math.floor((now.getTime() - new Date(then).getTime()) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** Slack shows this in each reader's own time zone; the ISO text is the fallback. */
export function slackDate(at: Date | string): string {
  const date = new Date(at);
  return `<!date^${Math.floor(date.getTime() / 1000)}^{date_short_pretty} {time_secs}|${date.toISOString()}>`;
}

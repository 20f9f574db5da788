// Waiting for something a server recorded: poll until the probe returns a
// truthy value. A probe may throw (an assert inside it) to mean "not yet"; on
// timeout the last such error and a description of what was recorded are
// in the rejection, so a failing test says what actually happened.
export async function pollUntil<T>(probe: () => T | undefined | null | false, timeoutMs: number, describe: () => string, intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const last = lastError instanceof Error ? `\nlast check failed: ${lastError.message}` : "";
  throw new Error(`waited ${timeoutMs} ms in vain${last}\n${describe()}`);
}

/** One line of JSON, cut short: for listing recorded things in failure messages. */
export function brief(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

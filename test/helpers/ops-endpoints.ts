// Reading a process's /healthz, /readyz and /metrics the way Kubernetes and
// Prometheus do: plain GETs, and samples picked out of the text format.
export async function getOps(port: number, path: "/healthz" | "/readyz" | "/metrics"): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

/** The value of the sample `name{labels…}` (labels in any order, others allowed); undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Polls `path` until it answers `status`; resolves with how long that took (connection errors count as "not yet"). */
export async function waitForStatus(port: number, path: "/healthz" | "/readyz", status: number, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await getOps(port, path).catch((err: unknown) => ({ status: 0, text: String(err) }));
    if (res.status === status) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`${path} on ${port} did not answer ${status} within ${timeoutMs} ms; last: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

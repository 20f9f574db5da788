// Faults queued per method by failNext(); each matching call consumes one.
import type { ServerResponse } from "node:http";

/** A 429 without retryAfter leaves the Retry-After header out (proxies and some gateways do). */
export type Fault = { status: 429; retryAfter?: number } | { status: 500 | 502 | 503 | 504 } | { error: string };

export class FaultPlan {
  private readonly queued = new Map<string, Fault[]>();

  add(method: string, fault: Fault, times: number): void {
    const queue = this.queued.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(fault);
    this.queued.set(method, queue);
  }

  take(method: string): Fault | undefined {
    return this.queued.get(method)?.shift();
  }

  clear(): void {
    this.queued.clear();
  }
}

/** Answers as Slack would for the fault; returns the status and error to record. */
export function writeFault(res: ServerResponse, fault: Fault): { status: number; error: string } {
  if ("error" in fault) {
    writeJson(res, 200, { ok: false, error: fault.error });
    return { status: 200, error: fault.error };
  }
  if (fault.status === 429) {
    writeJson(res, 429, { ok: false, error: "ratelimited" }, fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) });
    return { status: 429, error: "ratelimited" };
  }
  res.writeHead(fault.status, { "content-type": "text/plain" }).end(`emulated HTTP ${fault.status}`);
  return { status: fault.status, error: `http_${fault.status}` };
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(body));
}

// One way to open Redis for xnode. BullMQ needs maxRetriesPerRequest: null on
// connections its workers block on (they keep retrying and resume by
// themselves when Redis returns). A connection a person waits on (the bot's
// commands and buttons, the CLI) fails fast instead: a command fails after one
// reconnect attempt or 3 s, so the answer is "Redis is down", not silence.
import { Redis, type RedisOptions } from "ioredis";
import { XnodeError } from "../errors.js";

/** REDIS_URL, or Sentinel (the URL then gives only the password and database). */
export interface RedisTarget {
  url: string;
  sentinel?: { sentinels: { host: string; port: number }[]; name: string; sentinelPassword?: string };
}

/**
 * Behind Sentinel: the primary is asked of the sentinels; on a failover the connection drops (the
 * sentinels' +switch-master, or a write refused by the demoted primary) and reconnects to the new one.
 */
function connect(target: string | RedisTarget, options: RedisOptions): Redis {
  const t = typeof target === "string" ? { url: target } : target;
  if (!t.sentinel) return new Redis(t.url, options);
  const url = new URL(t.url);
  return new Redis({
    ...options,
    sentinels: t.sentinel.sentinels,
    name: t.sentinel.name,
    ...(t.sentinel.sentinelPassword ? { sentinelPassword: t.sentinel.sentinelPassword } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    db: Number(url.pathname.slice(1) || 0),
    failoverDetector: true,
    reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
  });
}

/** How long a person waits at most for one Redis command on a fail-fast connection. */
export const FAIL_FAST_COMMAND_MS = 3000;

export function createRedis(target: string | RedisTarget, opts: { failFast?: boolean } = {}): Redis {
  if (opts.failFast) {
    return connect(target, {
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: FAIL_FAST_COMMAND_MS,
      // keep reconnecting (a long-running bot recovers when Redis returns), never faster than every 2 s
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
  }
  return connect(target, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** A Redis URL without its password (or the Sentinel setup), for messages. */
export function redactRedisUrl(target: string | RedisTarget): string {
  const t = typeof target === "string" ? { url: target } : target;
  if (t.sentinel) return `Sentinel primary "${t.sentinel.name}" via ${t.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}`;
  return t.url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** What a person is told when Redis did not answer. */
export function redisUnreachable(target: string | RedisTarget, err: unknown): XnodeError {
  const why = err instanceof Error ? err.message : String(err);
  return new XnodeError("REDIS_UNREACHABLE", `cannot reach Redis at ${redactRedisUrl(target)} (${why})`, "Start Redis or fix REDIS_URL, then try again.", {
    cause: err,
  });
}

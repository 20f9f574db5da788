// One way to open Redis for xnode. BullMQ needs maxRetriesPerRequest: null on
// connections its workers block on (they keep retrying and resume by
// themselves when Redis returns). A connection a person waits on (the bot's
// commands and buttons, the CLI) fails fast instead: a command fails after one
// reconnect attempt or 3 s, so the answer is "Redis is down", not silence.
import { Redis } from "ioredis";
import { XnodeError } from "../errors.js";

/** How long a person waits at most for one Redis command on a fail-fast connection. */
export const FAIL_FAST_COMMAND_MS = 3000;

export function createRedis(url: string, opts: { failFast?: boolean } = {}): Redis {
  if (opts.failFast) {
    return new Redis(url, {
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: FAIL_FAST_COMMAND_MS,
      // keep reconnecting (a long-running bot recovers when Redis returns), never faster than every 2 s
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
  }
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** A Redis URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** What a person is told when Redis did not answer. */
export function redisUnreachable(url: string, err: unknown): XnodeError {
  const why = err instanceof Error ? err.message : String(err);
  return new XnodeError("REDIS_UNREACHABLE", `cannot reach Redis at ${redactRedisUrl(url)} (${why})`, "Start Redis or fix REDIS_URL, then try again.", {
    cause: err,
  });
}

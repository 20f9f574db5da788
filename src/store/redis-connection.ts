// One way to open Redis for xnode. BullMQ needs maxRetriesPerRequest: null on
// connections its workers block on (they keep retrying and resume by
// themselves); a connection a person waits on (the CLI) fails fast instead,
// with a clear error, rather than queueing commands forever while Redis is down.
import { Redis } from "ioredis";

export function createRedis(url: string, opts: { failFast?: boolean } = {}): Redis {
  if (opts.failFast) {
    return new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: true, connectTimeout: 2000, retryStrategy: () => null, lazyConnect: false });
  }
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

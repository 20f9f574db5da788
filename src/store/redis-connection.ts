// One way to open Redis for xnode: BullMQ needs maxRetriesPerRequest: null on
// connections its workers block on, and we want failures to surface fast
// (a clear error) rather than queue forever when Redis is down at startup.
import { Redis } from "ioredis";

export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

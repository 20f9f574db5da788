// Where xnode's Redis is: REDIS_URL, or Sentinel from XNODE_CONFIG's `redis`
// (checked by the schema before anything connects), and how it is named in
// messages (never with a password).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { envSchema, parseFileConfig, redisTarget } from "../../src/config.js";
import { redactRedisUrl } from "../../src/store/redis-connection.js";

const env = envSchema.parse({ REDIS_URL: "redis://:s3cret@127.0.0.1:6379/2" });

describe("redis target", () => {
  it("is REDIS_URL without a redis section, and Sentinel with one", () => {
    const plain = parseFileConfig({}).config!;
    assert.deepEqual(redisTarget({ env, file: plain }), { url: "redis://:s3cret@127.0.0.1:6379/2" });
    const file = parseFileConfig({ redis: { sentinels: [{ host: "10.0.0.5", port: 26379 }], name: "mymaster" } }).config!;
    assert.deepEqual(redisTarget({ env, file }), {
      url: "redis://:s3cret@127.0.0.1:6379/2",
      sentinel: { sentinels: [{ host: "10.0.0.5", port: 26379 }], name: "mymaster" },
    });
  });

  it("rejects a Sentinel section without sentinels, a name, or with a bad port or unknown key", () => {
    const problems = (redis: unknown) => parseFileConfig({ redis }, "cfg").problems;
    assert.match(problems({ sentinels: [], name: "m" }).join("\n"), /cfg redis\.sentinels/);
    assert.match(problems({ sentinels: [{ host: "h", port: 26379 }] }).join("\n"), /cfg redis\.name/);
    assert.match(problems({ sentinels: [{ host: "h", port: 0 }], name: "m" }).join("\n"), /cfg redis\.sentinels\.0\.port/);
    assert.match(problems({ sentinels: [{ host: "h", port: 1 }], name: "m", master: "x" }).join("\n"), /unknown field\(s\) master/);
  });

  it("names the target in messages without its password", () => {
    assert.equal(redactRedisUrl("redis://u:s3cret@redis:6379/0"), "redis://u:***@redis:6379/0");
    const sentinel = {
      url: "redis://:s3cret@x/0",
      sentinel: {
        sentinels: [
          { host: "a", port: 1 },
          { host: "b", port: 2 },
        ],
        name: "m",
      },
    };
    assert.equal(redactRedisUrl(sentinel), 'Sentinel primary "m" via a:1,b:2');
  });
});

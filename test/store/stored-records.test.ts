// Records read back from real Redis go through their schemas: one another
// xnode version (or a hand edit) wrote fails with STORE_INVALID and a hint,
// never as a half-typed object further on.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { z } from "zod";
import { DigestState } from "../../src/digest/digest-state.js";
import { isXnodeError } from "../../src/errors.js";
import { ApprovalStore } from "../../src/store/approval-store.js";
import { CheckStore } from "../../src/store/check-store.js";
import { parseStored } from "../../src/store/parse-stored.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { deleteKeys, REDIS_URL } from "../helpers/xnode-fixture.js";

function storeInvalid(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(isXnodeError(err), `expected an XnodeError, got ${String(err)}`);
    assert.equal(err.code, "STORE_INVALID");
    assert.match(err.message, pattern);
    assert.match(err.hint, /another xnode version or is corrupt/);
    return true;
  };
}

describe("parseStored", () => {
  const schema = z.object({ id: z.string(), n: z.number() });

  test("returns the parsed value", () => {
    assert.deepEqual(parseStored(schema, '{"id":"a","n":1}', "thing a"), { id: "a", n: 1 });
  });

  test("names the record and the first problem", () => {
    assert.throws(() => parseStored(schema, "{not json", "thing a"), storeInvalid(/^the stored thing a is not JSON$/));
    assert.throws(
      () => parseStored(schema, '{"id":"a","n":"1"}', "thing a"),
      storeInvalid(/^the stored thing a does not match .*\(n: Invalid input: expected number, received string\)$/),
    );
  });
});

describe("stores read back through their schemas", () => {
  let redis: Redis;
  let prefix: string;
  before(async () => {
    redis = createRedis(REDIS_URL);
    prefix = `xr${randomBytes(4).toString("hex")}`;
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test("CheckStore: check records, reports and last results", async () => {
    const store = new CheckStore(redis, `${prefix}:`);
    await redis.set(`${prefix}:check:c1`, JSON.stringify({ id: "c1", cluster: "a", status: "sleeping" }));
    await assert.rejects(store.getCheck("c1"), storeInvalid(/check c1/));
    await redis.set(`${prefix}:report:c1`, "{truncated");
    await assert.rejects(store.getReport("c1"), storeInvalid(/report of check c1 is not JSON/));
    await redis.set(`${prefix}:last:a`, JSON.stringify({ checkId: "c1", cluster: "a" }));
    await assert.rejects(store.getLast("a"), storeInvalid(/last result of cluster a/));
  });

  test("ApprovalStore: the record and its decision", async () => {
    const store = new ApprovalStore(redis, `${prefix}:`);
    const id = ApprovalStore.newId();
    await redis.set(`${prefix}:approval:${id}`, JSON.stringify({ id, purpose: "fix", cluster: "a" }));
    await assert.rejects(store.get(id), storeInvalid(new RegExp(`approval ${id}`)));

    const plan = { kind: "add-routes", summary: "s", diff: [], persistent: false, risks: [] };
    const rec = {
      id,
      purpose: "fix",
      cluster: "a",
      findingId: "route-missing",
      plan,
      planHash: "h",
      fingerprint: {},
      requestedBy: "U1",
      channel: "C1",
      threadTs: "1.1",
      createdAt: "t",
      expiresAt: "t",
    };
    await redis.set(`${prefix}:approval:${id}`, JSON.stringify(rec));
    await redis.hset(`${prefix}:approval:${id}:decision`, { status: "maybe", decidedBy: "U2" });
    await assert.rejects(store.get(id), storeInvalid(/decision of approval/));
    await redis.hset(`${prefix}:approval:${id}:decision`, { status: "approved" });
    assert.equal((await store.get(id))?.status, "approved");
  });

  test("DigestState: remembered findings and failures", async () => {
    const state = new DigestState(redis, `${prefix}:`);
    await redis.hset(`${prefix}:digest:failures`, { a: JSON.stringify({ failingSince: 3 }) });
    await assert.rejects(state.load("d1", ["a"]), storeInvalid(/failure memory of cluster a/));
    await redis.hset(`${prefix}:digest:failures`, { a: JSON.stringify({ failingSince: "2026-11-26T00:00:00Z" }) });
    await redis.hset(`${prefix}:digest:d1:findings`, { a: JSON.stringify(["route-missing"]) });
    assert.deepEqual(await state.load("d1", ["a"]), { findings: { a: ["route-missing"] }, failures: { a: { failingSince: "2026-11-26T00:00:00Z" } } });
  });
});

// A check's evidence in real Redis: written once per part, read back whole
// through its schemas, kept as long as the report, and a part another xnode
// version wrote fails with STORE_INVALID naming the node.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { Redis } from "ioredis";
import { compactOverlay } from "../../src/diagnosis/overlay-templates.js";
import { isXnodeError } from "../../src/errors.js";
import { EvidenceStore } from "../../src/store/evidence-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { capturedEvidence } from "../diagnosis/captured-evidence-files.js";
import { deleteKeys, REDIS_URL } from "../helpers/xnode-fixture.js";

const prefix = `xt${randomBytes(4).toString("hex")}`;
let redis: Redis;
before(() => {
  redis = createRedis(REDIS_URL);
});
after(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

test("snapshot, compacted hosts and reach results come back as written, each part with the report's TTL", async () => {
  const store = new EvidenceStore(redis, `${prefix}:`, 3600);
  const { evidence } = capturedEvidence()[0]!;
  const hosts = evidence.hosts.map((h) => compactOverlay(evidence.snapshot, h));
  await store.saveSnapshot("c1", evidence.snapshot);
  await store.saveHosts("c1", hosts.slice(0, 1));
  await store.saveHosts("c1", hosts.slice(1));
  // a retried step writes its nodes again: the fields are replaced, not duplicated
  await store.saveHosts("c1", hosts.slice(0, 1));
  const node = evidence.snapshot.nodes[0]!.name;
  const entries = evidence.matrix.filter((e) => e.from === node);
  await store.saveReaches("c1", [{ node, entries, failures: [] }]);

  // another process (a fresh store) reads it from Redis
  assert.deepEqual(await new EvidenceStore(redis, `${prefix}:`, 3600).loadSnapshot("c1"), evidence.snapshot);
  const loaded = await store.loadHosts("c1");
  assert.deepEqual([...loaded.keys()].sort(), hosts.map((h) => h.node).sort());
  for (const h of hosts) assert.deepEqual(loaded.get(h.node), h);
  assert.deepEqual([...(await store.loadReach("c1"))], [[node, { node, entries, failures: [] }]]);
  for (const part of ["snapshot", "hosts", "reach"]) {
    const ttl = await redis.ttl(`${prefix}:check:c1:${part}`);
    assert.ok(ttl > 3500 && ttl <= 3600, `${part}: TTL ${ttl}`);
  }
  assert.equal(await store.loadSnapshot("gone"), undefined);
  assert.equal((await store.loadHosts("gone")).size, 0);
});

test("a snapshot is written once: a start step run again gets the first one back, and every process reads that one", async () => {
  const store = new EvidenceStore(redis, `${prefix}:`, 3600);
  const { evidence } = capturedEvidence()[0]!;
  const later = { ...evidence.snapshot, takenAt: "2030-01-01T00:00:00.000Z" };
  assert.equal((await store.saveSnapshot("once", evidence.snapshot)).takenAt, evidence.snapshot.takenAt);
  const other = new EvidenceStore(redis, `${prefix}:`, 3600);
  assert.equal((await other.saveSnapshot("once", later)).takenAt, evidence.snapshot.takenAt, "the second save keeps the first");
  assert.equal((await new EvidenceStore(redis, `${prefix}:`, 3600).loadSnapshot("once"))!.takenAt, evidence.snapshot.takenAt);
  // each process keeps what it read: the same object again, without another GET
  const reader = new EvidenceStore(redis, `${prefix}:`, 3600);
  const first = await reader.loadSnapshot("once");
  assert.equal(await reader.loadSnapshot("once"), first);
});

test("a host part another version wrote fails with STORE_INVALID naming the node and the check", async () => {
  const store = new EvidenceStore(redis, `${prefix}:`);
  await redis.hset(`${prefix}:check:c2:hosts`, "node-a", JSON.stringify({ node: "node-a", errors: "none" }));
  await assert.rejects(store.loadHosts("c2"), (err: unknown) => {
    assert.ok(isXnodeError(err));
    assert.equal(err.code, "STORE_INVALID");
    assert.match(err.message, /host evidence of node-a in check c2/);
    return true;
  });
});

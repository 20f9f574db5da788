// CheckStore on real Redis: one running check per cluster, joins that race a
// finish, reports readable by id with a TTL.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import type { CheckReport } from "../../src/model/index.js";
import { ApprovalStore } from "../../src/store/approval-store.js";
import { CheckStore } from "../../src/store/check-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { deleteKeys, REDIS_URL } from "../helpers/xnode-fixture.js";

const report: CheckReport = { cluster: "a", startedAt: "2026-11-26T00:00:00Z", durationMs: 5, nodes: [], matrix: [], findings: [] };

describe("CheckStore", () => {
  let redis: Redis;
  let prefix: string;
  let store: CheckStore;
  before(async () => {
    redis = createRedis(REDIS_URL);
    prefix = `xs${randomBytes(4).toString("hex")}`;
    store = new CheckStore(redis, `${prefix}:`, 3600, 60);
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test("one claim per cluster; the loser learns the running id; finish frees it", async () => {
    const claims = await Promise.all(["c1", "c2", "c3"].map((id) => store.claim("a", id)));
    const winners = claims.filter((c) => c.claimed);
    assert.equal(winners.length, 1);
    const runningId = await store.activeCheck("a");
    for (const c of claims) if (!c.claimed) assert.equal(c.runningId, runningId);
    assert.ok((await redis.ttl(`${prefix}:active:a`)) > 0, "a stuck check frees its cluster eventually");
    await store.subscribe("a", runningId!, { user: "U1", channel: "C1", ts: "1.1" });
    const subs = await store.finish("a", runningId!);
    assert.deepEqual(subs, [{ user: "U1", channel: "C1", ts: "1.1" }]);
    assert.equal(await store.activeCheck("a"), undefined);
    assert.equal(await store.subscribe("a", runningId!, { user: "U2", channel: "C1" }), false, "a join after the finish is refused");
  });

  test("reports are readable by id and expire", async () => {
    await store.saveReport("r1", report);
    assert.deepEqual(await store.getReport("r1"), report);
    const ttl = await redis.ttl(`${prefix}:report:r1`);
    assert.ok(ttl > 0 && ttl <= 3600, `ttl ${ttl}`);
    assert.equal(await store.getReport("nope"), undefined);
  });

  test("progress counts concurrent units exactly", async () => {
    await store.startPhase("p1", "inspect", 5);
    const counts = await Promise.all([1, 2, 3, 4, 5].map((n) => store.advance("p1", "inspect", [`node-${n}`])));
    assert.deepEqual(counts.map((c) => c.done).sort(), [1, 2, 3, 4, 5]);
    assert.ok(counts.every((c) => c.total === 5 && c.phase === "inspect" && c.counted === 1));
  });

  test("progress counts a unit once however often a retried job reports it, and not after its phase", async () => {
    await store.startPhase("p2", "inspect", 3);
    await store.advance("p2", "inspect", ["node-1"]);
    const again = await store.advance("p2", "inspect", ["node-1"]);
    assert.deepEqual(again, { phase: "inspect", done: 1, total: 3, counted: 0 });
    await store.startPhase("p2", "reach", 2);
    const late = await store.advance("p2", "inspect", ["node-2"]);
    assert.equal(late.counted, 0);
    const first = await store.advance("p2", "reach", ["node-1"]);
    assert.deepEqual(first, { phase: "reach", done: 1, total: 2, counted: 1 });
    // a batch: the units it adds are counted, the ones already counted are not
    assert.deepEqual(await store.advance("p2", "reach", ["node-1", "node-2", "node-3"]), { phase: "reach", done: 3, total: 2, counted: 2 });
  });

  test("only the first failure of a check is told", async () => {
    assert.equal(await store.firstFailure("f1"), true);
    assert.equal(await store.firstFailure("f1"), false);
  });
});

describe("ApprovalStore", () => {
  let redis: Redis;
  let prefix: string;
  before(() => {
    redis = createRedis(REDIS_URL);
    prefix = `xs${randomBytes(4).toString("hex")}`;
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test("ten simultaneous decisions: exactly one wins, the others learn who decided; the plan JSON is untouched", async () => {
    const approvals = new ApprovalStore(redis, `${prefix}:`);
    const id = ApprovalStore.newId();
    const plan = { kind: "add-routes" as const, summary: "s", commands: [], diff: [], persistent: false, risks: [] };
    await approvals.save({
      id,
      purpose: "fix",
      cluster: "a",
      findingId: "route-missing",
      plan,
      planHash: "h",
      fingerprint: { routes: {} },
      requestedBy: "U0",
      channel: "C",
      threadTs: "1",
      createdAt: "t",
      expiresAt: "t",
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => approvals.decide(id, "approved", `U${i}`, new Date())));
    assert.equal(results.filter((r) => r.ok).length, 1);
    const rec = await approvals.get(id);
    assert.equal(rec?.status, "approved");
    for (const r of results) if (!r.ok) assert.equal(r.decidedBy, rec?.decidedBy);
    assert.deepEqual(rec?.plan, plan, "empty arrays stay arrays");
    assert.deepEqual(rec?.fingerprint, { routes: {} });
    assert.equal(await approvals.get("not-an-id"), undefined);
    assert.deepEqual(await approvals.decide(ApprovalStore.newId(), "approved", "U1", new Date()), {
      ok: false,
      status: "missing",
      decidedBy: undefined,
      decidedAt: undefined,
    });
  });
});

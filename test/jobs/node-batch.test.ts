// A chunk's finished nodes are written in batches: by size, by waiting, and
// what is left at the end; in order; a failed write fails the chunk.
import assert from "node:assert/strict";
import { test } from "node:test";
import { NodeBatch } from "../../src/jobs/node-batch.js";

test("full batches go out as they fill, the rest when the chunk ends, in order", async () => {
  const writes: number[][] = [];
  const batch = new NodeBatch<number>(
    async (items) => {
      await new Promise((r) => setImmediate(r));
      writes.push(items);
    },
    25,
    60_000,
  );
  for (let i = 0; i < 60; i++) batch.add(i);
  await batch.close();
  assert.deepEqual(
    writes.map((w) => w.length),
    [25, 25, 10],
  );
  assert.deepEqual(writes.flat(), [...Array(60).keys()]);
});

test("a batch that does not fill goes out once its first node has waited", async () => {
  let written: number[] | undefined;
  const wrote = new Promise<void>((resolve) => {
    const batch = new NodeBatch<number>(
      (items) => {
        written = items;
        resolve();
        return Promise.resolve();
      },
      25,
      10,
    );
    batch.add(1);
    batch.add(2);
  });
  await wrote;
  assert.deepEqual(written, [1, 2]);
});

test("a failed write fails close(), after the other writes ran", async () => {
  const writes: number[][] = [];
  const batch = new NodeBatch<number>(
    (items) => {
      writes.push(items);
      return items[0] === 0 ? Promise.reject(new Error("redis down")) : Promise.resolve();
    },
    2,
    60_000,
  );
  for (let i = 0; i < 5; i++) batch.add(i);
  await assert.rejects(batch.close(), /redis down/);
  assert.deepEqual(writes, [[0, 1], [2, 3], [4]]);
});

test("around(): what the work finished is written even when the work throws, and the work's error is the one thrown", async () => {
  const writes: number[][] = [];
  const batch = new NodeBatch<number>(
    (items) => {
      writes.push(items);
      return Promise.reject(new Error("write failed"));
    },
    25,
    60_000,
  );
  await assert.rejects(
    batch.around(async () => {
      batch.add(1);
      batch.add(2);
      throw new Error("node failed");
    }),
    /node failed/,
  );
  assert.deepEqual(writes, [[1, 2]]);
  const ok = new NodeBatch<number>((items) => (writes.push(items), Promise.resolve()), 25, 60_000);
  assert.equal(await ok.around(() => (ok.add(3), Promise.resolve("done"))), "done");
  assert.deepEqual(writes.at(-1), [3]);
});

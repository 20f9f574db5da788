import assert from "node:assert/strict";
import { test } from "node:test";
import { Semaphore } from "../../src/kube/semaphore.js";

test("never more than the limit at once, every task runs, errors pass through", async () => {
  const s = new Semaphore(3);
  let running = 0;
  let peak = 0;
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      s.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        if (i === 7) throw new Error("task 7");
        return i;
      }),
    ),
  );
  assert.equal(peak, 3);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 19);
  assert.match(String((results[7] as PromiseRejectedResult).reason), /task 7/);
  assert.throws(() => new Semaphore(0), RangeError);
});

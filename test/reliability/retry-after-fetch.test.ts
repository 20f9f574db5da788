// retryAfterFetch: a 429 without Retry-After gets one (so @slack/web-api waits
// and retries instead of giving up); every other answer passes unchanged.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryAfterFetch } from "../../src/slack/retry-after-fetch.js";

const answering =
  (status: number, headers: Record<string, string> = {}): typeof fetch =>
  async () =>
    new Response(JSON.stringify({ ok: status === 200 }), { status, headers });

describe("retryAfterFetch", () => {
  it("fills in Retry-After on a 429 that has none, keeping the body", async () => {
    const res = await retryAfterFetch(answering(429), 2)("http://x/api/chat.postMessage");
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.deepEqual(await res.json(), { ok: false });
  });

  it("keeps Slack's own Retry-After, and leaves other answers alone", async () => {
    assert.equal((await retryAfterFetch(answering(429, { "retry-after": "30" }))("http://x")).headers.get("retry-after"), "30");
    for (const status of [200, 500, 503]) {
      const res = await retryAfterFetch(answering(status))("http://x");
      assert.equal(res.status, status);
      assert.equal(res.headers.get("retry-after"), null);
    }
  });
});

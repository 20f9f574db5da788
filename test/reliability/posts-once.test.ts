// postsOnce: a job step run again edits the messages it posted instead of
// posting them twice; a step that never posted posts normally.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { postsOnce, type PostedMessage, type PostLedger } from "../../src/slack/posts-once.js";
import type { SlackMessage, SlackPort } from "../../src/slack/slack-port.js";

function recordingSlack() {
  const calls: string[] = [];
  let ts = 0;
  const port: SlackPort = {
    post: async (channel, m: SlackMessage, thread) => {
      calls.push(`post ${channel} ${thread ?? "-"} ${m.text}`);
      return { channel, ts: `1.${++ts}` };
    },
    update: async (channel, t, m) => void calls.push(`update ${channel} ${t} ${m.text}`),
    permalink: async () => undefined,
    uploadFiles: async (channel, thread, files) => void calls.push(`upload ${channel} ${thread} ${files.map((f) => f.filename).join(" ")}`),
    usergroupMembers: async () => [],
  };
  return { port, calls };
}

function memoryLedger(): PostLedger & { slots: Map<string, PostedMessage> } {
  const slots = new Map<string, PostedMessage>();
  return { slots, get: async (slot) => slots.get(slot), set: async (slot, p) => void slots.set(slot, p) };
}

describe("postsOnce", () => {
  it("posts on the first run and edits the same messages on the second", async () => {
    const slack = recordingSlack();
    const ledger = memoryLedger();
    const run = async (suffix: string) => {
      const once = postsOnce(slack.port, ledger, "check:k1:report");
      const a = await once.post("C1", { text: `summary${suffix}` }, "9.9");
      const b = await once.post("C1", { text: `matrix${suffix}` }, "9.9");
      await once.uploadFiles("C1", "9.9", [{ filename: "report.json", title: "t", content: "{}" }]);
      return [a.ts, b.ts];
    };
    const first = await run("");
    const second = await run(" again");
    assert.deepEqual(second, first, "the second run answers with the first run's messages");
    assert.deepEqual(slack.calls, [
      "post C1 9.9 summary",
      "post C1 9.9 matrix",
      "upload C1 9.9 report.json",
      "update C1 1.1 summary again",
      "update C1 1.2 matrix again",
    ]);
  });

  it("a run cut short after one post: the next run edits that one and posts the rest", async () => {
    const slack = recordingSlack();
    const ledger = memoryLedger();
    await postsOnce(slack.port, ledger, "fix:7").post("C1", { text: "started" }, "9.9");
    const again = postsOnce(slack.port, ledger, "fix:7");
    await again.post("C1", { text: "started" }, "9.9");
    await again.post("C1", { text: "diff" }, "9.9");
    assert.deepEqual(slack.calls, ["post C1 9.9 started", "update C1 1.1 started", "post C1 9.9 diff"]);
  });

  it("steps are apart: another step's slots are not reused", async () => {
    const slack = recordingSlack();
    const ledger = memoryLedger();
    await postsOnce(slack.port, ledger, "trace:r1").post("C1", { text: "one" });
    await postsOnce(slack.port, ledger, "trace:r2").post("C1", { text: "two" });
    assert.deepEqual(slack.calls, ["post C1 - one", "post C1 - two"]);
  });
});

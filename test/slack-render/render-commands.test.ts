import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderClusters } from "../../src/slack/render/render-clusters.js";
import { renderHelp } from "../../src/slack/render/render-help.js";
import { renderStatus } from "../../src/slack/render/render-status.js";
import { renderUsageError } from "../../src/slack/render/render-usage-error.js";
import { allText, validateMessage } from "./validate-message.js";

const now = new Date("2026-11-26T12:00:00Z");
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

function textOf(message: Parameters<typeof validateMessage>[0]): string {
  assert.deepEqual(validateMessage(message), []);
  return allText(message);
}

describe("help and usage errors", () => {
  it("help lists every command, escaped", () => {
    const text = textOf(renderHelp());
    for (const usage of [
      "/xnode check &lt;cluster&gt;",
      "/xnode clusters",
      "/xnode status",
      "/xnode help",
      "/xnode audit &lt;cluster&gt;",
      "/xnode digest now",
    ]) {
      assert.ok(text.includes(`\`${usage}\``), usage);
    }
    assert.match(text, /Approve fix/);
  });

  it("a usage error says what was wrong, echoes the input, then the usage", () => {
    const text = textOf(renderUsageError("no cluster named cluster-z", "/xnode check cluster-z"));
    assert.match(text, /^:warning: no cluster named cluster-z\nYou typed: `\/xnode check cluster-z`\n\*Usage\*\n`\/xnode check &lt;cluster&gt;`/);
    assert.doesNotMatch(textOf(renderUsageError("check needs a cluster name")), /You typed/);
    assert.match(textOf(renderUsageError("bad <input> & more", "<@U1> `x`")), /bad &lt;input&gt; &amp; more\nYou typed: `&lt;@U1&gt; ˋxˋ`/);
  });
});

describe("renderClusters", () => {
  it("lists each cluster with its last verdict and age", () => {
    const text = textOf(
      renderClusters(
        [
          { name: "cluster-a", last: { at: minutesAgo(12), problems: 3 } },
          { name: "cluster-b", last: { at: minutesAgo(90), problems: 0 } },
          { name: "cluster-c", last: { at: minutesAgo(1), problems: 0, error: "kubeconfig <x> unreadable" } },
          { name: "cluster-d" },
        ],
        now,
      ),
    );
    assert.match(text, /• \*cluster-a\* · :x: 3 problems · 12 min ago/);
    assert.match(text, /• \*cluster-b\* · :white_check_mark: healthy · 1 h ago/);
    assert.match(text, /• \*cluster-c\* · :warning: check failed: kubeconfig &lt;x&gt; unreadable · 1 min ago/);
    assert.match(text, /• \*cluster-d\* · not checked yet/);
  });

  it("says how to configure clusters when there are none", () => {
    assert.match(textOf(renderClusters([], now)), /No clusters configured\. Add them under `clusters:`/);
  });
});

describe("renderStatus", () => {
  it("shows the queue, running checks and last results", () => {
    const message = renderStatus(
      {
        queue: { waiting: 2, active: 1 },
        running: [{ cluster: "cluster-a", startedAt: minutesAgo(2), requestedBy: "U123" }],
        last: [{ cluster: "cluster-b", outcome: { at: new Date(now.getTime() - 3 * 86_400_000), problems: 1 } }],
      },
      now,
    );
    const text = textOf(message);
    assert.match(text, /\*Waiting\*\n2\n\*Active\*\n1/);
    assert.match(text, /:hourglass_flowing_sand: \*cluster-a\* · started 2 min ago · for <@U123>/);
    assert.match(text, /• \*cluster-b\* · :x: 1 problem · 3 d ago/);
    assert.equal(message.text, "xnode: 2 waiting, 1 running");
  });

  it("says so when nothing runs and nothing was checked", () => {
    const text = textOf(renderStatus({ queue: { waiting: 0, active: 0 }, running: [], last: [] }, now));
    assert.match(text, /_No checks running_/);
    assert.match(text, /_No cluster checked yet_/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  actions,
  blockTextLength,
  button,
  clipBlocks,
  composeMessage,
  context,
  fieldSections,
  header,
  packSections,
  section,
  toMessage,
} from "../../src/slack/render/blocks.js";
import { fitLines, MAX_MESSAGE_BLOCK_TEXT, truncate } from "../../src/slack/render/limits.js";
import { bold, code, escape, fence, mention } from "../../src/slack/render/mrkdwn.js";
import { formatAgo, formatDuration } from "../../src/slack/render/time-text.js";
import { validateMessage } from "./validate-message.js";

describe("truncate and fitLines", () => {
  it("truncate keeps short text and cuts long text to the limit with the note", () => {
    assert.equal(truncate("short", 10), "short");
    assert.equal(truncate("abcdefghijkl", 10, "…"), "abcdefghi…");
    assert.equal(truncate("x".repeat(100), 20, " (cut)").length, 20);
  });

  it("truncate never leaves half an entity or half a surrogate pair", () => {
    assert.equal(truncate("ab&amp;cdef", 6, "…"), "ab…");
    assert.equal(truncate("ab😀cdef", 4, "…"), "ab…");
  });

  it("fitLines keeps whole lines and counts the rest in the note", () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`.padEnd(20, "."));
    const fitted = fitLines(lines, 200, (n) => `… ${n} more`);
    assert.ok(fitted.text.length <= 200);
    assert.equal(fitted.omitted, 50 - (fitted.text.split("\n").length - 1));
    assert.ok(fitted.text.endsWith(`… ${fitted.omitted} more`));
    assert.deepEqual(
      fitLines(["a", "b"], 200, () => "never"),
      { text: "a\nb", omitted: 0 },
    );
  });

  it("fitLines shows the start of a first line too long on its own", () => {
    const fitted = fitLines(["y".repeat(500), "z"], 100, (n) => `… ${n} more`);
    assert.ok(fitted.text.startsWith("yyy") && fitted.text.length <= 100);
    assert.equal(fitted.omitted, 1);
  });
});

describe("mrkdwn", () => {
  it("escapes the three control characters only", () => {
    assert.equal(escape(`a & b < c > d "e" 'f'`), `a &amp; b &lt; c &gt; d "e" 'f'`);
    assert.equal(bold("<x>"), "*&lt;x&gt;*");
    assert.equal(code("a`b&"), "`aˋb&amp;`");
    assert.equal(fence("x"), "```\nx\n```");
    assert.equal(mention("U0123ABCD"), "<@U0123ABCD>");
    assert.equal(mention("<!everyone>"), "&lt;!everyone&gt;");
  });
});

describe("block constructors", () => {
  it("cut text to each block's limit", () => {
    const long = "w".repeat(5000);
    const blocks = [header(long), section(long), context(long), ...fieldSections(Array.from({ length: 23 }, () => long)), ...packSections([long, long])];
    assert.deepEqual(validateMessage(toMessage("t", blocks)), []);
    assert.equal(fieldSections(Array.from({ length: 23 }, () => "f")).length, 3);
  });

  it("packSections joins short lines into one section", () => {
    assert.equal(packSections(["a", "b", "c"]).length, 1);
    assert.equal(packSections(Array.from({ length: 10 }, () => "q".repeat(1000))).length, 5);
  });

  it("clip past 50 blocks with a note, keeping the closing buttons", () => {
    const buttons = actions("acts", [button({ actionId: "go", text: "Go", value: "v" })]);
    const clipped = clipBlocks([...Array.from({ length: 60 }, (_, i) => section(`s${i}`)), buttons]);
    assert.equal(clipped.clipped, true);
    assert.equal(clipped.blocks.length, 50);
    assert.equal(clipped.blocks[49], buttons);
    assert.deepEqual(clipped.blocks[48], context("… 12 more blocks not shown"));
    const message = toMessage("t", clipped.blocks);
    assert.deepEqual(validateMessage(message), []);
    assert.equal(new Set(message.blocks.map((b) => b.block_id)).size, 50);
  });

  it("refuse a button value Slack would reject rather than cut what it means", () => {
    assert.throws(() => button({ actionId: "a", text: "A", value: "v".repeat(2001) }), RangeError);
    assert.equal(button({ actionId: "a", text: "t".repeat(100), value: "v" }).text.text.length, 75);
  });
});

describe("time text", () => {
  const now = new Date("2026-11-26T12:00:00Z");
  it("durations and ages", () => {
    assert.equal(formatDuration(850), "850 ms");
    assert.equal(formatDuration(4210), "4.2 s");
    assert.equal(formatDuration(125_000), "2 min 5 s");
    assert.equal(formatAgo(now, now), "just now");
    assert.equal(formatAgo(new Date(now.getTime() + 60_000), now), "just now");
    assert.equal(formatAgo("2026-11-26T11:59:20Z", now), "40 s ago");
    assert.equal(formatAgo("2026-11-26T11:48:00Z", now), "12 min ago");
  });
});

describe("the text budget of one message", () => {
  const lines = (tag: string, count: number, width = 90) => Array.from({ length: count }, (_, i) => `${tag} line ${i} ${"x".repeat(width)}`);
  const textOf = (m: ReturnType<typeof toMessage>) => m.blocks.reduce((n, b) => n + blockTextLength(b), 0);

  it("leaves a message within the budget untouched", () => {
    const blocks = [header("h"), ...packSections(lines("a", 20))];
    const { message, cut } = composeMessage("t", [{ blocks, cut: false }]);
    assert.equal(cut, false);
    assert.deepEqual(
      message.blocks.map((b) => b.type),
      blocks.map((b) => b.type),
    );
  });

  it("shares the budget: small parts whole, large parts cut by whole lines with a note, header and buttons kept", () => {
    const buttons = actions("acts", [button({ actionId: "xnode_rerun", text: "Re-run", value: "lab" })]);
    const { message, cut } = composeMessage("t", [
      { blocks: [header("Report"), section("*Findings*\n• route-missing\n• udp-vxlan-blocked")], cut: false },
      { blocks: packSections(lines("big", 200)), cut: false },
      { blocks: [section(fence(lines("diff", 40, 40).join("\n")))], cut: false },
      { blocks: [buttons], cut: false },
    ]);
    assert.equal(cut, true);
    assert.deepEqual(validateMessage(message), []);
    assert.ok(textOf(message) <= MAX_MESSAGE_BLOCK_TEXT, `${textOf(message)} characters`);
    const text = message.blocks.map((b) => JSON.stringify(b)).join("\n");
    assert.match(text, /route-missing/, "the small part is whole");
    assert.match(text, /big line 0 /, "the large part starts as it was");
    assert.doesNotMatch(text, /big line 199 /);
    assert.match(text, /not shown: Slack limits how much text one message holds/);
    assert.equal(message.blocks[0]?.type, "header");
    assert.equal(message.blocks.at(-1)?.type, "actions", "the buttons stay last");
  });

  it("a cut code block stays closed", () => {
    const { message } = composeMessage("t", [{ blocks: [...packSections(lines("pad", 100)), section(fence(lines("diff", 40, 40).join("\n")))], cut: false }]);
    const diff = message.blocks.find((b) => b.type === "section" && b.text?.text.startsWith("```"));
    assert.ok(diff?.type === "section", "the code block is cut, not dropped");
    assert.match(diff.text!.text, /^```\ndiff line 0 [\s\S]*… \d+ more lines\n```$/);
    assert.deepEqual(validateMessage(message), []);
  });

  it("toMessage applies it too (fix, digest and root messages)", () => {
    const message = toMessage("t", packSections(lines("x", 300)));
    assert.ok(textOf(message) <= MAX_MESSAGE_BLOCK_TEXT);
    assert.deepEqual(validateMessage(message), []);
  });
});

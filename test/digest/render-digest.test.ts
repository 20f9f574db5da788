import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CheckReport, ClusterOutcome, DigestMemory } from "../../src/model/index.js";
import { composeDigest } from "../../src/digest/compose-digest.js";
import type { SlackMessage } from "../../src/slack/render/blocks.js";
import { renderDigest } from "../../src/slack/render/render-digest.js";
import { allText, validateMessage } from "../slack-render/validate-message.js";
import { bigReport, healthyReport, seedReport } from "../slack-render/report-fixtures.js";

const NOW = new Date("2026-11-27T09:00:00.000Z");
const THREE_HOURS_AGO = new Date(NOW.getTime() - 3 * 3600_000).toISOString();

// validate-message allows only the mention and date markup; a digest also links
// each cluster's report thread, so links are checked here and then set aside.
function withoutLinks(message: SlackMessage): SlackMessage {
  const strip = (t: string) => t.replace(/<https:\/\/[^|<>\s]+\|[^<>]+>/g, "LINK");
  return JSON.parse(JSON.stringify(message), (key, value: unknown) => (key === "text" && typeof value === "string" ? strip(value) : value)) as SlackMessage;
}

const as = (cluster: string, report: CheckReport): CheckReport => ({ ...report, cluster });

describe("renderDigest", () => {
  it("header counts, trigger note, one or two lines per cluster, problems first", () => {
    const previous: DigestMemory = {
      findings: { "cluster-b": ["udp-vxlan-blocked"], seed: ["vtep-duplicate-public-ip"] },
      failures: { "cluster-b": { lastFailureAt: THREE_HOURS_AGO }, seed: { lastFailureAt: THREE_HOURS_AGO, failingSince: THREE_HOURS_AGO } },
    };
    const outcomes: ClusterOutcome[] = [
      { cluster: "cluster-b", report: healthyReport, threadLink: "https://emulated.slack/archives/C1/p1700000000000100" },
      { cluster: "never-failed", report: as("never-failed", healthyReport) },
      { cluster: "seed", report: seedReport },
      { cluster: "gone", error: { message: "cannot load kubeconfig /etc/x <missing> & more", hint: "Check the file path." } },
    ];
    const message = renderDigest(composeDigest(outcomes, previous, NOW, { kind: "manual", requestedBy: "U0ALICE01" }).content);
    assert.deepEqual(validateMessage(withoutLinks(message)), []);
    const text = allText(message);
    assert.match(message.text, /2 healthy · 1 with problems · 1 not checked/);
    assert.match(text, /\*2 healthy · 1 with problems · 1 not checked\* · <!date\^\d+\^/);
    assert.match(text, /On demand by <@U0ALICE01>/);
    const lines = text.split("\n");
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/\*seed\*/) < at(/\*gone\*/) && at(/\*gone\*/) < at(/\*cluster-b\*/), "problems, then not checked, then healthy");
    assert.match(text, /\*seed\* · :x: 3 problems · 0\/2 pod pairs reachable · failing since 3 h ago/);
    assert.match(text, /↳ :new: new: `vtep-wrong-interface` \(k8s-master1, k8s-node1\), `nodeport-unreachable` \(.*\) · ongoing: `vtep-duplicate-public-ip`/);
    assert.match(text, /:warning: \*gone\* · could not be checked: cannot load kubeconfig \/etc\/x &lt;missing&gt; &amp; more · failing since just now/);
    assert.match(text, /↳ What to try: Check the file path\./);
    assert.match(
      text,
      /\*cluster-b\* · :white_check_mark: healthy · 6\/6 pod pairs reachable · last failure 3 h ago · <https:\/\/emulated\.slack\/archives\/C1\/p1700000000000100\|latest report>/,
    );
    assert.match(text, /↳ :tada: resolved: `udp-vxlan-blocked`/);
    assert.match(text, /\*never-failed\* · :white_check_mark: healthy · 6\/6 pod pairs reachable · last failure never/);
  });

  it("a scheduled digest says so", () => {
    const message = renderDigest(
      composeDigest([{ cluster: "cluster-b", report: healthyReport }], { findings: {}, failures: {} }, NOW, { kind: "schedule" }).content,
    );
    assert.match(allText(message), /Scheduled digest/);
    assert.equal(message.text, "xnode digest: 1 healthy");
  });

  it("20 clusters with long names, many findings and huge errors fit in one message within Slack's limits", () => {
    const outcomes: ClusterOutcome[] = Array.from({ length: 20 }, (_, i) => {
      const cluster = `cluster-${String(i).padStart(2, "0")}-${"x".repeat(40)}`;
      const threadLink = `https://emulated.slack/archives/C0789IJKL/p17000000000${String(i).padStart(5, "0")}`;
      if (i % 4 === 3) return { cluster, threadLink, error: { message: `upstream said: ${"<html>".repeat(400)}`, hint: "h".repeat(2000) } };
      return { cluster, threadLink, report: as(cluster, i % 2 ? bigReport : seedReport) };
    });
    const previous: DigestMemory = { findings: Object.fromEntries(outcomes.map((o) => [o.cluster, ["route-missing", "mtu-mismatch"]])), failures: {} };
    const message = renderDigest(composeDigest(outcomes, previous, NOW, { kind: "schedule" }).content);
    assert.deepEqual(validateMessage(withoutLinks(message)), []);
    const text = allText(message);
    for (const o of outcomes) assert.ok(text.includes(`*${o.cluster}*`), `${o.cluster} is in the digest`);
    assert.ok(!/more blocks not shown/.test(text), "nothing clipped");
    const sections = message.blocks.filter((b) => b.type === "section");
    console.log(`20 clusters: ${message.blocks.length} blocks, ${sections.length} sections, ${text.length} characters`);
  });
});

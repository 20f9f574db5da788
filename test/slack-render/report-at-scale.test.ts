// The thread of a large sampled report, rendered: a fixed number of messages
// at 60, 300 and 1000 nodes, each within Slack's limits, the broken nodes one
// line each with their cause, and the files the thread carries beside it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderReportMessages } from "../../src/slack/render/render-report.js";
import { matrixCsv, reportFiles } from "../../src/slack/report-files.js";
import { blocksTextLength } from "../slack/emulator/block-kit-limits.js";
import { bigReport, healthyReport, longEvidenceReport, sampledReport } from "./report-fixtures.js";
import { allText, validateMessage } from "./validate-message.js";

describe("a sampled report of a large cluster", () => {
  for (const size of [60, 300, 1000]) {
    it(`${size} nodes: four messages within Slack's limits, the broken nodes named by cause, the healthy ones not listed`, () => {
      const report = sampledReport(size);
      const messages = renderReportMessages(report);
      const largest = Math.max(...messages.map((m) => blocksTextLength(m.blocks)));
      console.log(`${size} nodes: ${messages.length} messages, largest block text ${largest} characters`);
      assert.equal(messages.length, 4, "summary, connectivity, one per cause");
      for (const m of messages) assert.deepEqual(validateMessage(m), []);
      assert.ok(largest < 11_000, `largest block text ${largest}`);
      const [vxlan, forward] = report.findings.map((f) => f.nodes[0]!);
      const others = size - 1;
      const connectivity = allText(messages[1]!);
      assert.match(
        connectivity,
        new RegExp(`\\*${vxlan}\\*: ${2 * others}/${2 * others} of its probed pairs fail \\(${others} to it, ${others} from it\\): \\*udp-vxlan-blocked\\*`),
      );
      assert.match(
        connectivity,
        new RegExp(
          `\\*${forward}\\*: ${2 * others}/${2 * others} of its probed pairs fail \\(${others} to it, ${others} from it\\): \\*forward-policy-drop\\*`,
        ),
      );
      assert.doesNotMatch(connectivity, /synth-0000/, "a healthy node failing only its pairs with the broken ones is not listed");
      assert.doesNotMatch(connectivity, /Other failing pairs/);
      const summary = allText(messages[0]!);
      assert.match(summary, /probed pod-to-pod pairs reachable \(of \d+\)/);
      // 60 node lines fit whole in the report's order; past that the cut keeps the named nodes first
      if (size > 60) assert.ok(summary.indexOf(vxlan) < summary.indexOf("synth-0000"), "the named nodes lead the cut node list");
      else assert.ok(summary.indexOf("synth-0000") < summary.indexOf(vxlan), "a list that fits keeps the report's order");
    });
  }

  it("a failing pair between two healthy nodes is still shown, apart from the broken nodes", () => {
    const report = sampledReport(300);
    report.matrix = report.matrix.map((e) => (e.from === "synth-0001" && e.to === "synth-0002" ? { ...e, ok: false, error: "no reply (timeout)" } : e));
    const connectivity = allText(renderReportMessages(report)[1]!);
    assert.match(connectivity, /Other failing pairs grouped by (source|destination) node/);
    assert.match(connectivity, /synth-0001.*synth-0002|synth-0002.*synth-0001/);
  });
});

describe("the files beside the thread", () => {
  it("a cluster the grid shows whole: nothing, or only the full report when a message was cut", () => {
    assert.deepEqual(reportFiles(healthyReport, renderReportMessages(healthyReport)), []);
    const cut = renderReportMessages(longEvidenceReport);
    assert.equal(cut.needsAttachment, true);
    assert.deepEqual(
      reportFiles(longEvidenceReport, cut).map((f) => f.filename),
      [`xnode-${longEvidenceReport.cluster}-report.json`],
    );
  });

  it("more nodes than the grid's 20: the picture, the CSV and the report, cut or not", () => {
    assert.deepEqual(
      reportFiles(bigReport, renderReportMessages(bigReport)).map((f) => f.filename),
      ["xnode-cluster-big-matrix.png", "xnode-cluster-big-matrix.csv", "xnode-cluster-big-report.json"],
      `${bigReport.nodes.length} nodes`,
    );
    const report = sampledReport(1000);
    const [png, csv, json] = reportFiles(report, renderReportMessages(report));
    assert.ok(Buffer.isBuffer(png!.content));
    assert.equal((png!.content as Buffer).toString("ascii", 12, 16), "IHDR");
    assert.equal(png!.filename, "xnode-synth-1000-matrix.png");
    assert.equal(csv!.filename, "xnode-synth-1000-matrix.csv");
    assert.equal((csv!.content as string).split("\r\n").length, report.matrix.length + 2, "header, one row per entry, the last line ended");
    assert.deepEqual(JSON.parse(json!.content as string), report);
  });

  it("CSV fields with commas, quotes or line breaks are quoted (RFC 4180)", () => {
    const csv = matrixCsv([
      { from: "a", to: "b", kind: "pod-icmp", target: "10.0.0.2", ok: true, rttMs: 0.25 },
      { from: "a", to: "b", kind: "pod-tcp", target: "10.0.0.2:8080", ok: false, error: 'curl: (7) Failed, "refused"\nretry' },
    ]);
    assert.equal(csv, 'from,to,kind,ok,rttMs,error\r\na,b,pod-icmp,true,0.25,\r\na,b,pod-tcp,false,,"curl: (7) Failed, ""refused""\nretry"\r\n');
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderRootMessage, type RootMessageState } from "../../src/slack/render/render-root-message.js";
import { healthyReport, seedReport } from "./report-fixtures.js";
import { allText, validateMessage } from "./validate-message.js";

const who = { cluster: "cluster-a", requestedBy: "U123" };

function render(state: RootMessageState): string {
  const message = renderRootMessage(state);
  assert.deepEqual(validateMessage(message), []);
  return allText(message);
}

describe("renderRootMessage", () => {
  it("queued names the cluster and who asked", () => {
    assert.match(render({ ...who, state: "queued" }), /^:hourglass: Checking \*cluster-a\* for <@U123>…\nqueued$/);
    assert.match(render({ ...who, state: "queued", ahead: 2 }), /queued · 2 checks ahead/);
  });

  it("running shows the phase and how far it got", () => {
    assert.match(render({ ...who, state: "running", progress: { phase: "inspect", done: 3, total: 5 } }), /step 2\/4 · inspecting nodes: probed 3\/5 nodes/);
    assert.match(
      render({ ...who, state: "running", progress: { phase: "reach", done: 1, total: 10 } }),
      /step 3\/4 · probing pod-to-pod reachability: 1\/10 agents done/,
    );
    assert.match(render({ ...who, state: "running", progress: { phase: "snapshot" } }), /step 1\/4 · reading nodes and flannel/);
    assert.doesNotMatch(render({ ...who, state: "running" }), /step/);
  });

  it("done gives the verdict, the duration and points at the thread", () => {
    const problems = render({ ...who, state: "done", report: seedReport });
    assert.match(problems, /^\*cluster-a\*: :x: 3 problems \(vtep-duplicate-public-ip, vtep-wrong-interface, nodeport-unreachable\)/);
    assert.match(problems, /2 nodes · checked in 4\.2 s for <@U123> · details in thread/);
    const healthy = render({ ...who, state: "done", report: healthyReport });
    assert.match(healthy, /^\*cluster-a\*: :white_check_mark: healthy\n/);
    assert.equal(renderRootMessage({ ...who, state: "done", report: healthyReport }).text, "xnode: cluster-a healthy");
  });

  it("failed says what happened and what to try", () => {
    const text = render({
      ...who,
      state: "failed",
      error: {
        message: "cannot reach the Kubernetes API of cluster-a: connect ECONNREFUSED 10.0.0.1:6443",
        hint: "Is the API server up? Check the kubeconfig's server address",
      },
    });
    assert.match(text, /:warning: Checking \*cluster-a\* for <@U123> failed: cannot reach the Kubernetes API of cluster-a: connect ECONNREFUSED/);
    assert.match(text, /\*What to try:\* Is the API server up\?/);
    assert.doesNotMatch(render({ ...who, state: "failed", error: { message: "boom" } }), /What to try/);
    const buttons = renderRootMessage({ ...who, state: "failed", error: { message: "boom" } }).blocks.flatMap((b) => (b.type === "actions" ? b.elements : []));
    assert.deepEqual(
      buttons.map((b) => [b.action_id, b.value]),
      [["xnode_rerun", "cluster-a"]],
    );
  });

  it("joined mentions the second asker", () => {
    assert.match(render({ ...who, state: "joined", joinedBy: "U456" }), /^<@U456> asked too; joined the running check of \*cluster-a\* started for <@U123>$/);
  });

  it("escapes the cluster and never turns a bad user id into markup", () => {
    const text = render({ cluster: "<!here>", requestedBy: "<!channel>", state: "queued" });
    assert.match(text, /Checking \*&lt;!here&gt;\* for &lt;!channel&gt;…/);
    assert.equal(renderRootMessage({ cluster: "a&b", requestedBy: "U1", state: "running" }).text, "xnode: checking a&amp;b");
  });
});

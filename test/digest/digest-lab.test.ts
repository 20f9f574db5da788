// Digests against a real lab cluster through a real Worker: what changed
// between digests (a firewall rule added, then removed, on one node), and a
// cluster that cannot be checked next to one that can.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { digestIds, type DigestConfig } from "../../src/digest/digest-payloads.js";
import { requestDigestNow } from "../../src/digest/request-digest.js";
import { kubectl, podOn, startLab, type StartedLab } from "../helpers/lab-fixture.js";
import { startSlackEmulator, type SlackEmulator } from "../slack/emulator.js";
import { emulatorSlack, kubeClients, MISSING_KUBECONFIG, messageText, openDigestHarness, type DigestHarness } from "./digest-fixture.js";

const DROP_VXLAN = ["INPUT", "-p", "udp", "--dport", "8472", "-j", "DROP"];

describe("digests of a lab cluster", () => {
  let lab: StartedLab;
  let emulator: SlackEmulator;
  let h: DigestHarness;
  let hostAgent: string;
  let requests = 0;

  before(async () => {
    lab = await startLab("healthy-three-nodes");
    emulator = await startSlackEmulator({ channels: { C0LABCHG: {}, C0LABBAD: {} } });
    h = await openDigestHarness();
    h.startWorker({ kubeFor: kubeClients({ lab: lab.kubeconfigPath }), slack: emulatorSlack(emulator) });
    hostAgent = await podOn(lab.kubeconfigPath, "xnode-system", "app.kubernetes.io/name=xnode-host-agent", "worker-1");
  });
  after(async () => {
    await h?.close();
    await emulator?.close();
    await lab?.stop();
  });

  /** `/xnode digest now` in the digest's channel, and the message it posts. */
  async function digestNow(digest: DigestConfig): Promise<string> {
    const before = emulator.messages(digest.channel).length;
    const started = Date.now();
    await requestDigestNow(
      h.queue,
      { digests: [digest], clusters: digest.clusters },
      { channel: digest.channel, user: "U0ALICE01", requestId: `r${++requests}` },
    );
    const message = await emulator.waitFor(() => emulator.messages(digest.channel)[before], 60_000);
    console.log(`digest of ${digest.clusters.join(", ")} posted ${Date.now() - started} ms after the request`);
    return messageText(message);
  }

  async function hostIptables(op: "-A" | "-D"): Promise<void> {
    const r = await kubectl(lab.kubeconfigPath, "-n", "xnode-system", "exec", hostAgent, "--", "iptables", op, ...DROP_VXLAN);
    assert.equal(r.code, 0, `iptables ${op} on worker-1: ${r.stderr}`);
  }

  it("a VXLAN port blocked between two digests shows as new with its failure time, and as resolved once unblocked", async () => {
    const digest: DigestConfig = { channel: "C0LABCHG", cron: "0 9 * * *", timezone: "UTC", clusters: ["lab"] };
    const [digestId] = digestIds([digest]);

    const first = await digestNow(digest);
    assert.match(first, /\*lab\* · :white_check_mark: healthy · 6\/6 pod pairs reachable · last failure never/);

    await hostIptables("-A");
    let second: string;
    try {
      second = await digestNow(digest);
    } finally {
      await hostIptables("-D");
    }
    assert.match(second, /\*lab\* · :x: 1 problem · \d\/6 pod pairs reachable · failing since just now/);
    assert.match(second, /:new: new: `udp-vxlan-blocked` \(.*worker-1/);
    const failedAt = (await h.state.load(digestId!, ["lab"])).failures.lab?.lastFailureAt;
    assert.ok(failedAt, "the failure time is remembered");

    const third = await digestNow(digest);
    assert.match(third, /\*lab\* · :white_check_mark: healthy · 6\/6 pod pairs reachable · last failure (just now|\d+ s ago)/);
    assert.match(third, /:tada: resolved: `udp-vxlan-blocked`/);
    assert.equal((await h.state.load(digestId!, ["lab"])).failures.lab?.lastFailureAt, failedAt);

    const last = await h.store.getLast("lab");
    assert.equal(last?.verdict, "healthy", "/xnode status sees the digest's check");
    assert.ok(last && (await h.store.getReport(last.checkId)), "the full report is kept");
  });

  it("a cluster that cannot be checked is named with the reason, and the others are still reported", async () => {
    const text = await digestNow({ channel: "C0LABBAD", cron: "0 9 * * *", timezone: "UTC", clusters: ["lab", "broken"] });
    assert.match(text, /1 healthy · 1 not checked/);
    assert.match(text, /\*lab\* · :white_check_mark: healthy · 6\/6 pod pairs reachable/);
    assert.match(text, new RegExp(`:warning: \\*broken\\* · could not be checked: cannot load kubeconfig ${MISSING_KUBECONFIG} for cluster broken`));
    assert.match(text, /What to try: Check the file path and that it is a valid kubeconfig\./);
  });
});

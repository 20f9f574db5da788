// No false positives for public-ip-overwrite-wrong, cni0-address-mismatch and
// VtepMAC drift over real captured evidence (test/fixtures/evidence/, all but
// the captures of those faults): not as captured, not with probes failing at random
// (a failure alone proves none of them), and not with the harmless variations
// real clusters show on healthy captures.
import assert from "node:assert/strict";
import { test } from "node:test";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import type { CheckEvidence, FindingId } from "../../src/model/index.js";
import { seededRandom } from "../helpers/seeded-random.js";
import { capturedEvidence } from "./captured-evidence-files.js";

// captures of these very faults are read by captured-evidence.test.ts (they must yield them)
const captured = capturedEvidence(["public-ip-overwrite-wrong", "cni0-address-mismatch", "vtep-mac-change"]);

const NEW: readonly FindingId[] = ["public-ip-overwrite-wrong", "cni0-address-mismatch"];
const newIds = (ev: CheckEvidence) => diagnose(ev).flatMap((f) => (NEW.includes(f.id) ? [f.id] : []));
const driftLines = (ev: CheckEvidence) =>
  diagnose(ev)
    .filter((f) => f.id === "fdb-stale")
    .flatMap((f) => f.evidence.filter((l) => l.includes("VtepMAC (backend-data annotation)")));

test("captured evidence as it is: none of the three", () => {
  for (const { name, evidence } of captured) {
    assert.deepEqual(newIds(evidence), [], name);
    assert.deepEqual(driftLines(evidence), [], name);
  }
});

test("captured evidence with probes failing at random: still none of the three (1,500 cases)", () => {
  for (let i = 0; i < 1500; i++) {
    const { name, evidence } = captured[i % captured.length]!;
    const ev = structuredClone(evidence);
    const random = seededRandom(i + 7);
    const rate = random() < 0.3 ? 1 : random() * 0.6;
    for (const e of ev.matrix) if (random() < rate) Object.assign(e, { ok: false, error: "timeout", rttMs: undefined });
    for (const h of ev.hosts) if (random() < 0.1) delete h.interfaces;
    assert.deepEqual(newIds(ev), [], `case ${i} from ${name}`);
    assert.deepEqual(driftLines(ev), [], `case ${i} from ${name}`);
  }
});

test("healthy captures with harmless variations stay healthy", () => {
  const healthy = captured.filter((c) => diagnose(c.evidence).every((f) => f.id === "cluster-healthy"));
  assert.ok(healthy.length >= 2, `healthy captures: ${healthy.map((c) => c.name).join(", ")}`);
  const variations: [string, (ev: CheckEvidence) => void][] = [
    ["node-public-ip naming each node's own public-ip", (ev) => ev.snapshot.nodes.forEach((n) => (n.flannel.nodePublicIP = n.flannel.publicIP))],
    [
      "public-ip-overwrite equal to the address flannel would advertise anyway",
      (ev) => ev.snapshot.nodes.forEach((n) => (n.flannel.publicIPOverwrite = n.flannel.publicIP)),
    ],
    ["VtepMACs in upper case", (ev) => ev.snapshot.nodes.forEach((n) => (n.flannel.vtepMac = n.flannel.vtepMac?.toUpperCase()))],
    [
      "a second address inside the podCIDR on cni0",
      (ev) => {
        for (const h of ev.hosts) {
          const cni0 = h.interfaces?.find((i) => i.name === "cni0");
          const cidr = ev.snapshot.nodes.find((n) => n.name === h.node)?.podCIDR;
          if (cni0 && cidr) cni0.addresses.push({ address: cidr.replace(/\.0\/\d+$/, ".200"), prefixLength: Number(cidr.split("/")[1]) });
        }
      },
    ],
  ];
  for (const { name, evidence } of healthy) {
    for (const [what, vary] of variations) {
      const ev = structuredClone(evidence);
      vary(ev);
      assert.deepEqual(
        diagnose(ev).map((f) => f.id),
        ["cluster-healthy"],
        `${name} with ${what}`,
      );
    }
  }
});

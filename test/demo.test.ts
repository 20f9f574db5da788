// The README's first command: `npm run demo` tells the whole story on the lab.
import assert from "node:assert/strict";
import { test } from "node:test";
import { requireLabPrerequisites, run } from "./helpers/lab-fixture.js";

test("npm run demo: broken → diagnosis → approval → fix → healthy re-check", async () => {
  requireLabPrerequisites();
  const r = await run(["npm", "run", "--silent", "demo"], 120_000);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const out = r.stdout;
  assert.match(out, /xnode check lab: 3 problems found/);
  assert.match(out, /vtep-duplicate-public-ip/);
  assert.match(out, /Approval [0-9a-f]{8}… for patch-flannel-iface/);
  assert.match(out, /args: \[--ip-masq, --kube-subnet-mgr\] → \[--ip-masq, --kube-subnet-mgr, --iface=enp0s8\]/);
  assert.match(out, /server-side dry run ok/);
  assert.match(out, /xnode check lab: healthy/);
  assert.match(out, /Verdict: fixed\. Pod pairs reachable 0\/2 → 2\/2/);
  // the path a Slack approval takes: decision, apply and verdict audited, a rollback approval issued
  assert.match(out, /Audit: approved → applied → verdict/);
  assert.match(out, /Rollback approval issued: [0-9a-f]{8}…/);
  assert.match(r.stderr, /lab removed/);
});

// Old manifests keep flanneld's flags in `command`: the patch moves them to
// args (dropping the wrong --iface there too), the lab becomes healthy, and
// the rollback puts the command back exactly.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectl } from "../helpers/lab-fixture.js";
import { assertApplied, ids, openFixLab, planOf, type FixLab } from "./fix-lab.js";

const DS = ["-n", "kube-system", "get", "ds", "kube-flannel-ds-amd64", "-o"];

describe("patch-flannel-iface when the flags live in command", () => {
  let env: FixLab;
  before(async () => (env = await openFixLab("old-manifest-command-flags")));
  after(async () => env?.stop());

  test("moves the flags out of command, replaces --iface, heals, and rolls back exactly", async () => {
    const before = await env.check();
    assert.deepEqual(ids(before), ["vtep-duplicate-public-ip", "vtep-wrong-interface"]);
    const plan = planOf(before, "patch-flannel-iface");
    assert.deepEqual(plan.diff, ["args: [--ip-masq, --kube-subnet-mgr, --iface=eth0] → [--ip-masq, --kube-subnet-mgr, --iface=eth1]"]);
    const { outcome } = await env.fix(plan, await env.fingerprint(plan));
    assertApplied(outcome);
    const container = JSON.parse((await kubectl(env.kc, ...DS, "jsonpath={.spec.template.spec.containers[0]}")).stdout) as {
      command: string[];
      args: string[];
    };
    assert.deepEqual(container.command, ["/opt/bin/flanneld"]);
    assert.deepEqual(container.args, ["--ip-masq", "--kube-subnet-mgr", "--iface=eth1"]);
    assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);

    const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint);
    assertApplied(undone);
    const restored = JSON.parse((await kubectl(env.kc, ...DS, "jsonpath={.spec.template.spec.containers[0]}")).stdout) as {
      command: string[];
      args?: string[];
    };
    assert.deepEqual(restored.command, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--iface=eth0"]);
    assert.equal(restored.args, undefined);
    assert.deepEqual(ids(await env.check()), ["vtep-duplicate-public-ip", "vtep-wrong-interface"]);
  });
});

// deploy/'s RBAC per installation, enforced by the lab's API server: with
// deploy/'s default grants, a kubespray, RKE2 canal or any-namespace Helm
// cluster refuses discovery, and the check reports the refusal (verb,
// resource, namespace, the component that grants it), never "no flannel";
// with that installation's component added, the check is healthy and nothing
// is refused.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runCheck } from "../../src/check/run-check.js";
import { HELM_COMPONENT, KUBESPRAY_COMPONENT, namedDaemonSets, RKE2_COMPONENT } from "../../src/discovery/flannel-names.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { labAdmin, startLab, type StartedLab } from "../helpers/lab-fixture.js";
import { boundRules, rbacRulesFromDeploy } from "./rbac-rules.js";
import { renderVariant } from "./render.js";

interface Logged {
  verb: string;
  resource?: string;
  namespace?: string;
  name?: string;
  status: number;
}

async function check(lab: StartedLab, rules: unknown) {
  const res = await labAdmin(lab.lab, "POST", "/_lab/authz", { rules });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  await labAdmin(lab.lab, "DELETE", "/_lab/requests");
  const kube = createKubeClient({ cluster: "lab", kubeconfig: lab.kubeconfigPath });
  const { report } = await runCheck(kube, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 });
  const log = (await labAdmin(lab.lab, "GET", "/_lab/requests")).json as Logged[];
  return { report, refused: log.filter((r) => r.status === 403) };
}

const CASES = [
  {
    scenario: "healthy-kubespray",
    component: KUBESPRAY_COMPONENT,
    refusal: 'get daemonsets "kube-flannel" in kube-system (granted by deploy/components/flannel-kubespray)',
  },
  {
    scenario: "healthy-rke2-canal",
    component: RKE2_COMPONENT,
    refusal: 'get daemonsets "rke2-canal" in kube-system (granted by deploy/components/flannel-rke2-canal)',
  },
  {
    scenario: "healthy-helm",
    component: HELM_COMPONENT,
    refusal: "list daemonsets cluster-wide (label app=flannel) (granted by deploy/components/flannel-helm)",
  },
];

describe("RBAC per installation on the lab", () => {
  for (const c of CASES) {
    test(`${c.scenario}: refused with deploy/'s default RBAC and said so; healthy with ${c.component}`, async () => {
      const lab = await startLab(c.scenario);
      try {
        const denied = await check(lab, await rbacRulesFromDeploy());
        const ids = denied.report.findings.map((f) => f.id);
        const f = denied.report.findings.find((x) => x.id === "flannel-pod-not-ready");
        assert.ok(f, `findings: ${ids.join(", ")}`);
        assert.ok(f.evidence.includes(`refused: ${c.refusal}`), f.evidence.join("\n"));
        assert.doesNotMatch(f.evidence.join("\n") + f.explanation, /no flannel pod|not found/);
        assert.match(f.explanation, /Grant xnode's ServiceAccount/);
        assert.ok(denied.refused.length > 0);

        const granted = await check(lab, boundRules(await renderVariant([c.component])));
        assert.deepEqual(
          granted.report.findings.map((x) => x.id),
          ["cluster-healthy"],
        );
        // Discovery GETs the names of installations in a fixed order; those tried before this one's may be refused (and would be 404s).
        const named = namedDaemonSets();
        const own = named.findIndex((n) => n.grantedBy === c.component);
        const before = own < 0 ? named : named.slice(0, own);
        const unexpected = granted.refused.filter(
          (r) => !(r.verb === "get" && r.resource === "daemonsets" && before.some((n) => n.namespace === r.namespace && n.name === r.name)),
        );
        assert.deepEqual(unexpected, [], "nothing refused once the component is added, but lookups of other installations' names");
      } finally {
        await lab.stop();
      }
    });
  }

  test("healthy-k3s with deploy/components/flannel-k3s (no flannel Roles at all): healthy, nothing refused", async () => {
    const lab = await startLab("healthy-k3s");
    try {
      const { report, refused } = await check(lab, boundRules(await renderVariant(["deploy/components/flannel-k3s"])));
      assert.deepEqual(
        report.findings.map((x) => x.id),
        ["cluster-healthy"],
      );
      assert.deepEqual(refused, []);
    } finally {
      await lab.stop();
    }
  });
});

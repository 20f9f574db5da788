// A lab cluster wired for remediation tests: the real engine (runCheck,
// collectSnapshot) through @kubernetes/client-node, plus kubectl as an
// independent second client to read back what a fix really did.
import assert from "node:assert/strict";
import { collectSnapshot } from "../../src/check/collect-snapshot.js";
import { runCheck } from "../../src/check/run-check.js";
import type { CheckReport, RemediationPlan } from "../../src/model/index.js";
import { createKubeClient, type KubeClient } from "../../src/kube/kube-client.js";
import { executeFix, type FixOutcome, type FixStep } from "../../src/remediation/execute-fix.js";
import { takeFingerprint, type LiveFingerprint } from "../../src/remediation/fingerprint.js";
import type { RequestRecord } from "@xnode/lab";
import { kubectl, labAdmin, podOn, startLab, type StartedLab } from "../helpers/lab-fixture.js";

const HOST_AGENT = "app.kubernetes.io/name=xnode-host-agent";
const POD_AGENT = "app.kubernetes.io/name=xnode-pod-agent";

export interface FixLab {
  started: StartedLab;
  kube: KubeClient;
  kc: string;
  check(): Promise<CheckReport>;
  fingerprint(plan: RemediationPlan): Promise<LiveFingerprint>;
  /** each wait (rollout, pod restart, convergence) times out after 15 s unless told: the lab rolls two nodes out in about a second, several when the machine is busy */
  fix(
    plan: RemediationPlan,
    fingerprint: LiveFingerprint,
    approvedDiff?: string[],
    rolloutTimeoutMs?: number,
  ): Promise<{ outcome: FixOutcome; steps: FixStep[]; ms: number }>;
  stop(): Promise<void>;
}

export async function openFixLab(scenario: string): Promise<FixLab> {
  const started = await startLab(scenario);
  const kube = createKubeClient({ cluster: scenario, kubeconfig: started.kubeconfigPath });
  return {
    started,
    kube,
    kc: started.kubeconfigPath,
    // settle first: a check in the middle of a lab rollout would see a half-programmed cluster
    check: async () => (await started.lab.settled(), (await runCheck(kube, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 })).report),
    fingerprint: async (plan) => takeFingerprint(kube, await collectSnapshot(kube), plan),
    fix: async (plan, fingerprint, approvedDiff = plan.diff, rolloutTimeoutMs = 15_000) => {
      const steps: FixStep[] = [];
      const t = Date.now();
      const outcome = await executeFix(kube, plan, { approvedDiff, fingerprint, onStep: (s) => void steps.push(s), rolloutTimeoutMs, rolloutPollMs: 100 });
      const ms = Date.now() - t;
      await started.lab.settled();
      return { outcome, steps, ms };
    },
    stop: () => started.stop(),
  };
}

export function ids(report: CheckReport): string[] {
  return report.findings.map((f) => f.id).sort();
}

export function planOf(report: CheckReport, kind: RemediationPlan["kind"]): RemediationPlan {
  const plan = report.findings.flatMap((f) => f.remediations).find((p) => p.kind === kind);
  assert.ok(plan, `the check offers a ${kind} plan; findings: ${ids(report).join(", ")}`);
  return plan;
}

export function assertApplied(outcome: FixOutcome): asserts outcome is Extract<FixOutcome, { status: "applied" }> {
  assert.equal(outcome.status, "applied", "reason" in outcome ? outcome.reason : "");
}

export async function requests(lab: StartedLab): Promise<RequestRecord[]> {
  const r = await labAdmin(lab.lab, "GET", "/_lab/requests");
  assert.equal(r.status, 200);
  return r.json as RequestRecord[];
}

export async function clearRequests(lab: StartedLab): Promise<void> {
  assert.equal((await labAdmin(lab.lab, "DELETE", "/_lab/requests")).status, 204);
}

/** PATCHes of DaemonSets, split by whether they were server-side dry runs. */
export function daemonSetPatches(log: RequestRecord[]): { dry: RequestRecord[]; real: RequestRecord[] } {
  const patches = log.filter((r) => r.verb === "patch" && r.resource === "daemonsets");
  return { dry: patches.filter((r) => r.query.dryRun === "All"), real: patches.filter((r) => r.query.dryRun === undefined) };
}

export async function dsArgs(kc: string, namespace: string, name: string): Promise<string[]> {
  const r = await kubectl(kc, "-n", namespace, "get", "ds", name, "-o", "jsonpath={.spec.template.spec.containers[0].args}");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

/** Runs argv in the node's network namespace via kubectl exec into its host agent. */
export async function hostExec(kc: string, node: string, ...argv: string[]): Promise<string> {
  const pod = await podOn(kc, "xnode-system", HOST_AGENT, node);
  const r = await kubectl(kc, "-n", "xnode-system", "exec", pod, "--", ...argv);
  assert.equal(r.code, 0, `${argv.join(" ")} on ${node}: ${r.stderr}`);
  return r.stdout;
}

/** One real ping from the pod agent on `from` to the pod agent on `to`. */
export async function podPing(kc: string, from: string, to: string): Promise<boolean> {
  const src = await podOn(kc, "xnode-system", POD_AGENT, from);
  const dstPod = await podOn(kc, "xnode-system", POD_AGENT, to);
  const ip = await kubectl(kc, "-n", "xnode-system", "get", "pod", dstPod, "-o", "jsonpath={.status.podIP}");
  assert.ok(ip.stdout, `pod IP of ${dstPod}`);
  return (await kubectl(kc, "-n", "xnode-system", "exec", src, "--", "ping", "-c", "1", "-W", "1", ip.stdout)).code === 0;
}

// npm run demo: the whole story on the lab, in the terminal. The seed
// scenario (two VirtualBox-style nodes whose flannel picked the NAT interface)
// is checked, the proposed fix goes through xnode's approval path (server-side
// approval in Redis, policy, single use), is applied with a dry run and a
// rollout wait, and a re-check proves it. No Slack workspace or cluster.
// Needs root (network namespaces) and Redis on 127.0.0.1:6379.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateApproval, policyFromConfig } from "../src/approvals/approval-policy.js";
import { issueApprovals } from "../src/approvals/issue-approvals.js";
import { collectSnapshot } from "../src/check/collect-snapshot.js";
import { runCheck } from "../src/check/run-check.js";
import { renderTextReport } from "../src/cli/render-text-report.js";
import { parseFileConfig } from "../src/config.js";
import { createKubeClient } from "../src/kube/kube-client.js";
import { compareReports } from "../src/remediation/compare-reports.js";
import { executeFix } from "../src/remediation/execute-fix.js";
import { ApprovalStore } from "../src/store/approval-store.js";
import { createRedis } from "../src/store/redis-connection.js";
import { Lab, loadScenario, scenarioPath } from "@xnode/lab";

const scenarioFile = process.argv[2] ?? scenarioPath("seed-virtualbox-nat");
const say = (line: string) => console.error(`demo: ${line}`);
const APPROVER = "U0DEMOOPS";

if (process.getuid?.() !== 0) {
  say("the lab builds network namespaces and needs root (run it as root, e.g. with sudo)");
  process.exit(2);
}

const redis = createRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
try {
  await redis.ping();
} catch {
  say("Redis is not reachable on 127.0.0.1:6379 (approvals live there): run scripts/install-prerequisites.sh first");
  process.exit(2);
}
const prefix = `xnode-demo-${process.pid}:`;
const scenario = await loadScenario(scenarioFile);
say(`bringing up lab "${scenario.name}" (${scenario.nodes.length} nodes)…`);
const started = Date.now();
const lab = await Lab.start(scenario, { name: `demo-${scenario.name}` });
const dir = await mkdtemp(join(tmpdir(), "xnode-demo-"));
let code = 1;
try {
  say(`lab ready in ${Date.now() - started} ms`);
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, lab.kubeconfig, { mode: 0o600 });
  const kube = createKubeClient({ cluster: "lab", kubeconfig });
  const checkOpts = { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 };

  say("1/4 xnode check lab");
  const { report: before } = await runCheck(kube, checkOpts);
  console.log(renderTextReport(before));
  const fixable = before.findings.find((f) => f.remediations.some((r) => r.kind === "patch-flannel-iface")) ?? before.findings.find((f) => f.remediations.length > 0);
  if (!fixable) {
    say(before.findings.some((f) => f.id !== "cluster-healthy") ? "no automatic fix for these findings" : "the cluster is healthy: nothing to fix");
    code = 0;
  } else {
    say(`2/4 approval: ${fixable.id} has a fix; an approval is issued server-side (the Slack button carries only its id)`);
    const { config } = parseFileConfig({ clusters: [{ name: "lab", kubeconfig }], approvals: { approvers: { users: [APPROVER] } } });
    const policy = policyFromConfig(config!);
    const approvals = new ApprovalStore(redis, prefix);
    const check = { id: "demo", cluster: "lab", requestId: "demo", requestedBy: "U0DEMOREQ", channel: "terminal", rootTs: "0", status: "done" as const, startedAt: before.startedAt };
    const issued = await issueApprovals({ approvals, policy, now: () => new Date() }, kube, check, before, await collectSnapshot(kube));
    const approval = issued.get(fixable)!.approvals![0]!;
    const rec = (await approvals.get(approval.value))!;
    console.log(`\nApproval ${rec.id.slice(0, 8)}… for ${rec.plan.kind} on ${rec.cluster} (expires ${rec.expiresAt}):`);
    for (const line of rec.plan.diff) console.log(`  ${line}`);
    for (const risk of rec.plan.risks) console.log(`  risk: ${risk}`);
    const refusal = evaluateApproval(rec, { user: APPROVER, isApprover: true }, policy, new Date());
    if (refusal) throw new Error(`approval refused: ${refusal.message}`);
    const decided = await approvals.decide(rec.id, "approved", APPROVER, new Date());
    if (!decided.ok) throw new Error("approval already used");
    console.log(`  approved by ${APPROVER} (a second use of this approval would be refused)\n`);

    say("3/4 applying: drift check, server-side dry run, patch, rollout");
    const outcome = await executeFix(kube, rec.plan, {
      approvedDiff: rec.plan.diff,
      fingerprint: rec.fingerprint as never,
      rolloutTimeoutMs: 60_000,
      onStep: (step) => console.log(`  ${step.text}`),
    });
    if (outcome.status !== "applied") throw new Error(`fix not applied (${outcome.status}): ${outcome.reason}`);

    say("4/4 re-check");
    const { report: after } = await runCheck(kube, checkOpts);
    console.log(renderTextReport(after));
    const cmp = compareReports(before, after, fixable.id);
    console.log(`Verdict: ${cmp.verdict}. Pod pairs reachable ${cmp.pairs.before.ok}/${cmp.pairs.before.total} → ${cmp.pairs.after.ok}/${cmp.pairs.after.total}; resolved: ${cmp.resolved.join(", ") || "none"}.`);
    console.log(`Rollback, if wanted: ${outcome.rollback.diff.join("; ")}`);
    code = cmp.verdict === "fixed" ? 0 : 1;
  }
} finally {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await lab.stop();
  await rm(dir, { recursive: true, force: true });
  say("lab removed");
}
process.exit(code);

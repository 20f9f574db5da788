// npm run demo: the whole story on the lab, in the terminal. The seed
// scenario (two VirtualBox-style nodes whose flannel picked the NAT interface)
// is checked and recorded, the proposed fix is approved through the same code
// a Slack click runs (policy, fix lock, single-use decision, audit) and
// applied by runApprovedFix, as the fix worker does (plan hash, drift check,
// dry run, patch, rollout wait, recorded re-check, rollback approval).
// No Slack workspace or cluster. Needs root (network namespaces) and Redis.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { policyFromConfig } from "../src/approvals/approval-policy.js";
import { decideApproval } from "../src/approvals/decide-approval.js";
import { issueApprovals } from "../src/approvals/issue-approvals.js";
import { collectSnapshot } from "../src/check/collect-snapshot.js";
import { runCheck } from "../src/check/run-check.js";
import { renderTextReport } from "../src/cli/render-text-report.js";
import { parseFileConfig } from "../src/config.js";
import { createKubeClient } from "../src/kube/kube-client.js";
import { createLogger } from "../src/logger.js";
import { runApprovedFix, type FixReporter } from "../src/remediation/run-approved-fix.js";
import { ApprovalStore } from "../src/store/approval-store.js";
import { AuditLog } from "../src/store/audit-log.js";
import { CheckStore } from "../src/store/check-store.js";
import { recordCheck } from "../src/store/record-check.js";
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

/** The fix's progress in the terminal, where the worker posts it into the Slack thread. */
const terminalReporter: FixReporter = {
  async started(plan, approver, purpose) {
    console.log(`\n${purpose} approved by ${approver}: ${plan.summary}`);
  },
  async step(step) {
    console.log(`  ${step.text}`);
    if (step.kind === "diff") for (const line of step.lines) console.log(`    ${line}`);
  },
  async refused(title, reason) {
    console.log(`${title}: ${reason}`);
  },
  async finished(r) {
    say("4/4 re-check (recorded as the cluster's last result)");
    console.log(renderTextReport(r.after));
    const { pairs, resolved } = r.comparison;
    console.log(
      `Verdict: ${r.comparison.verdict}. Pod pairs reachable ${pairs.before.ok}/${pairs.before.total} → ${pairs.after.ok}/${pairs.after.total}; resolved: ${resolved.join(", ") || "none"}.`,
    );
    if (r.revertedBy) console.log(`Reverted: ${r.revertedBy}.`);
    if (r.rollbackApprovalId) console.log(`Rollback approval issued: ${r.rollbackApprovalId.slice(0, 8)}… (the thread's [Rollback] button)`);
  },
};

try {
  say(`lab ready in ${Date.now() - started} ms`);
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, lab.kubeconfig, { mode: 0o600 });
  const kube = createKubeClient({ cluster: "lab", kubeconfig });
  const checkOpts = { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 };
  const checks = new CheckStore(redis, prefix);
  const audit = new AuditLog(redis, prefix);
  const approvals = new ApprovalStore(redis, prefix);

  say("1/4 xnode check lab");
  const { report: before } = await runCheck(kube, checkOpts);
  const checkId = randomUUID();
  await recordCheck(checks, checkId, before, { finishedAt: new Date().toISOString() });
  console.log(renderTextReport(before));
  const fixable =
    before.findings.find((f) => f.remediations.some((r) => r.kind === "patch-flannel-iface")) ?? before.findings.find((f) => f.remediations.length > 0);
  if (!fixable) {
    say(before.findings.some((f) => f.id !== "cluster-healthy") ? "no automatic fix for these findings" : "the cluster is healthy: nothing to fix");
    code = 0;
  } else {
    say(`2/4 approval: ${fixable.id} has a fix; an approval is issued server-side (the Slack button carries only its id)`);
    const { config } = parseFileConfig({ clusters: [{ name: "lab", kubeconfig }], approvals: { approvers: { users: [APPROVER] } } });
    const policy = policyFromConfig(config!);
    const check = {
      id: checkId,
      cluster: "lab",
      requestId: "demo",
      requestedBy: "U0DEMOREQ",
      channel: "terminal",
      rootTs: "0",
      status: "done" as const,
      startedAt: before.startedAt,
    };
    const issued = await issueApprovals({ approvals, policy, now: () => new Date() }, kube, check, before, await collectSnapshot(kube));
    const approvalId = issued.get(fixable)?.approvals?.[0]?.value;
    if (!approvalId) throw new Error(`no approval was issued for ${fixable.id}`);
    const pending = await approvals.get(approvalId);
    console.log(`\nApproval ${approvalId.slice(0, 8)}… for ${pending?.plan.kind} on lab (expires ${pending?.expiresAt}):`);
    for (const line of pending?.plan.diff ?? []) console.log(`  ${line}`);
    for (const risk of pending?.plan.risks ?? []) console.log(`  risk: ${risk}`);
    const decision = await decideApproval({ approvals, audit, policy, fixLockSeconds: 600, now: () => new Date() }, approvalId, {
      user: APPROVER,
      isApprover: policy.users.includes(APPROVER),
    });
    if (!decision.ok) throw new Error(`approval refused: ${decision.message}`);
    console.log(`  approved by ${APPROVER}; the cluster's fix lock is held (a second use of this approval would be refused)`);

    say("3/4 applying: plan hash, drift check, server-side dry run, patch, rollout");
    const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
    const outcome = await runApprovedFix(
      { kube, approvals, audit, checks, logger, ...checkOpts, rolloutTimeoutMs: 60_000, expiryMinutes: policy.expiryMinutes },
      decision.rec,
      APPROVER,
      terminalReporter,
    );
    const trail = await audit.latest("lab", 10);
    console.log(
      `Audit: ${trail
        .map((e) => e.event)
        .reverse()
        .join(" → ")}`,
    );
    code = outcome.status === "applied" && outcome.verdict === "fixed" ? 0 : 1;
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

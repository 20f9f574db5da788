// Who may approve what, when (pure).
import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateApproval, hasApprovers, type ApprovalPolicy } from "../../src/approvals/approval-policy.js";
import type { ApprovalRecord } from "../../src/store/approval-store.js";

const now = new Date("2026-11-26T10:00:00Z");
const rec = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id: "a".repeat(32),
  purpose: "fix",
  cluster: "lab",
  findingId: "vtep-wrong-interface",
  plan: { kind: "patch-flannel-iface", summary: "s", diff: [], persistent: true, risks: [] },
  planHash: "h",
  fingerprint: {},
  requestedBy: "U0REQ0001",
  channel: "C",
  threadTs: "1",
  createdAt: "2026-11-26T09:55:00Z",
  expiresAt: "2026-11-26T10:10:00Z",
  status: "pending",
  ...over,
});
const policy = (over: Partial<ApprovalPolicy> = {}): ApprovalPolicy => ({
  users: ["U0APP0001"],
  usergroups: [],
  twoPersonRule: true,
  expiryMinutes: 15,
  allowedKinds: () => undefined,
  ...over,
});
const approver = { user: "U0APP0001", isApprover: true };

test("an approver may approve a pending, fresh, allowed plan", () => {
  assert.equal(evaluateApproval(rec(), approver, policy(), now), undefined);
});

test("each refusal in order, with its reason", () => {
  assert.equal(evaluateApproval(undefined, approver, policy(), now)?.code, "unknown");
  assert.equal(evaluateApproval(rec(), { user: "U0X", isApprover: false }, policy(), now)?.code, "not-approver");
  assert.equal(evaluateApproval(rec({ requestedBy: "U0APP0001" }), approver, policy(), now)?.code, "self-approval");
  assert.equal(evaluateApproval(rec({ requestedBy: "U0APP0001" }), approver, policy({ twoPersonRule: false }), now), undefined, "allowed without the rule");
  const decided = evaluateApproval(rec({ status: "approved", decidedBy: "U0OTHER01" }), approver, policy(), now);
  assert.equal(decided?.code, "decided");
  assert.match(decided!.message, /already approved by <@U0OTHER01>/);
  const expired = evaluateApproval(rec({ expiresAt: "2026-11-26T09:59:59Z" }), approver, policy(), now);
  assert.equal(expired?.code, "expired");
  assert.match(expired!.message, /Re-run/);
  const kind = evaluateApproval(rec(), approver, policy({ allowedKinds: () => ["add-routes"] }), now);
  assert.equal(kind?.code, "kind-not-allowed");
  assert.match(kind!.message, /allowedRemediations: add-routes/);
});

test("no approvers configured means no one can approve", () => {
  assert.equal(hasApprovers(policy({ users: [], usergroups: [] })), false);
  assert.equal(hasApprovers(policy({ users: [], usergroups: ["S0GROUP01"] })), true);
});

test("an approval counts only in the channel and thread it was posted to", () => {
  assert.equal(evaluateApproval(rec(), { ...approver, place: { channel: "C", threadTs: "1" } }, policy(), now), undefined);
  assert.equal(evaluateApproval(rec(), { ...approver, place: { channel: "C2", threadTs: "1" } }, policy(), now)?.code, "wrong-place");
  assert.equal(evaluateApproval(rec(), { ...approver, place: { channel: "C", threadTs: "2" } }, policy(), now)?.code, "wrong-place");
  assert.equal(evaluateApproval(rec(), { ...approver, place: {} }, policy(), now)?.code, "wrong-place");
});

// How the check pipeline tells people what happens. The Slack implementation
// lives in src/slack/; the worker only knows this interface.
import type { CheckReport, Finding } from "./report.js";
import type { CheckRecord, Subscriber } from "./check-record.js";

export interface CheckProgress {
  phase: string;
  done: number;
  total: number;
}

export interface FindingApprovals {
  approvals?: { kind: Finding["remediations"][number]["kind"]; value: string }[];
  rejectValue?: string;
}

export interface CheckNotifier {
  progress(check: CheckRecord, progress: CheckProgress): Promise<void>;
  /** `approvals`: what each fixable finding's buttons carry (absent: no Approve buttons) */
  finished(check: CheckRecord, report: CheckReport, subscribers: Subscriber[], approvals?: Map<Finding, FindingApprovals>): Promise<void>;
  failed(check: CheckRecord, error: { message: string; hint: string }, subscribers: Subscriber[]): Promise<void>;
}

// How the check pipeline tells people what happens. The Slack implementation
// lives in src/slack/; the worker only knows this interface.
import type { CheckReport, Finding, PacketTrace } from "./report.js";
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

/** Who asked for a trace of which pair, and where to answer. */
export interface TraceRequest {
  cluster: string;
  from: string;
  to: string;
  channel: string;
  user: string;
  /** one per request: a trace job run again answers once */
  requestId: string;
}

export interface CheckNotifier {
  progress(check: CheckRecord, progress: CheckProgress): Promise<void>;
  /** `approvals`: what each fixable finding's buttons carry (absent: no Approve buttons) */
  finished(check: CheckRecord, report: CheckReport, subscribers: Subscriber[], approvals?: Map<Finding, FindingApprovals>): Promise<void>;
  failed(check: CheckRecord, error: { message: string; hint: string }, subscribers: Subscriber[]): Promise<void>;
  /** a `/xnode trace` result (or why there is none), for whoever asked, in their channel */
  traced(request: TraceRequest, result: { trace: PacketTrace } | { error: { message: string; hint: string } }): Promise<void>;
}

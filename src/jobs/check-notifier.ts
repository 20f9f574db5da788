// How the check pipeline tells people what happens. The Slack implementation
// lives in src/slack/; the worker only knows this interface.
import type { CheckReport } from "../check/types.js";
import type { CheckRecord, Subscriber } from "../store/check-store.js";

export interface CheckProgress {
  phase: string;
  done: number;
  total: number;
}

export interface CheckNotifier {
  progress(check: CheckRecord, progress: CheckProgress): Promise<void>;
  finished(check: CheckRecord, report: CheckReport, subscribers: Subscriber[]): Promise<void>;
  failed(check: CheckRecord, error: { message: string; hint: string }, subscribers: Subscriber[]): Promise<void>;
}

// The one way a finished check is recorded, wherever it ran (the Slack flow,
// the CLI, a digest, the re-check after a fix): its report, kept with the
// report TTL, and the cluster's last result, which `/xnode clusters`,
// `/xnode status` and digests read.
import { countPodPairs, problemsOf, type CheckReport, type LastResult } from "../model/index.js";
import type { CheckStore } from "./check-store.js";

/** Where the cluster's latest report thread is; a check posted nowhere keeps the previous one. */
export type ReportThread = Pick<LastResult, "channel" | "rootTs">;

export function lastResultOf(checkId: string, report: CheckReport, finishedAt: string, thread: ReportThread = {}): LastResult {
  const problems = problemsOf(report.findings).length;
  return {
    checkId,
    cluster: report.cluster,
    finishedAt,
    verdict: problems === 0 ? "healthy" : `${problems} problem${problems === 1 ? "" : "s"}`,
    findingIds: report.findings.map((f) => f.id),
    reachable: countPodPairs(report),
    ...(thread.channel ? { channel: thread.channel } : {}),
    ...(thread.rootTs ? { rootTs: thread.rootTs } : {}),
  };
}

export async function recordCheck(
  store: CheckStore,
  checkId: string,
  report: CheckReport,
  opts: { finishedAt: string; thread?: ReportThread },
): Promise<LastResult> {
  const thread = opts.thread ?? (await store.getLast(report.cluster)) ?? {};
  const last = lastResultOf(checkId, report, opts.finishedAt, { channel: thread.channel, rootTs: thread.rootTs });
  await store.saveReport(checkId, report);
  await store.saveLast(last);
  return last;
}

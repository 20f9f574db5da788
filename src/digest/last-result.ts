// A cluster's "last result" (CheckStore.saveLast) from a finished report, in
// the same terms the check pipeline writes it, so `/xnode status` and
// `/xnode clusters` read a digest's check like any other.
import { countPodPairs } from "../check/pod-pairs.js";
import type { CheckReport } from "../check/types.js";
import type { LastResult } from "../store/check-store.js";
import { problemsOf } from "../slack/render/verdict.js";

export function lastResultOf(
  checkId: string,
  report: CheckReport,
  finishedAt: string,
  /** the cluster's latest report thread: a digest's check has none of its own, so the previous one stays the latest */
  thread: Pick<LastResult, "channel" | "rootTs"> = {},
): LastResult {
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

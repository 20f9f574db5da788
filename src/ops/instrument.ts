// The seams that count: the ports the worker and the bot already go through
// (Kubernetes exec, the Slack Web API, the check notifier), wrapped so each
// call is counted once, at the one place every call passes.
import type { KubeClient } from "../kube/kube-client.js";
import type { CheckNotifier } from "../model/index.js";
import type { SlackPort } from "../slack/slack-port.js";
import type { XnodeMetrics } from "./metrics.js";

export function countingKube(kube: KubeClient, metrics: XnodeMetrics): KubeClient {
  return {
    ...kube,
    async exec(target, argv, timeoutMs, stdin) {
      const started = performance.now();
      let ok = false;
      try {
        const result = await kube.exec(target, argv, timeoutMs, stdin);
        ok = true;
        return result;
      } finally {
        metrics.execFinished((performance.now() - started) / 1000, ok);
      }
    },
  };
}

/**
 * Slack's error code from whatever a Web API call threw: the platform's
 * `error` (possibly under an XnodeError's cause), else the HTTP status or the
 * kind of transport failure. Undefined for a 429 (counted as it is answered).
 */
export function slackErrorCode(err: unknown): string | undefined {
  for (let e = err as { data?: { error?: unknown }; code?: unknown; statusCode?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.data?.error === "string") return e.data.error;
    if (e.code === "slack_webapi_rate_limited_error") return undefined;
    if (e.code === "slack_webapi_http_error") return `http_${String(e.statusCode)}`;
    if (e.code === "slack_webapi_request_error") return "request_error";
  }
  return "unknown";
}

export function countingSlack(slack: SlackPort, metrics: XnodeMetrics): SlackPort {
  const counted =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args);
      } catch (err) {
        const code = slackErrorCode(err);
        if (code) metrics.slackApiError(code);
        throw err;
      }
    };
  return {
    ...slack,
    post: counted(slack.post.bind(slack)),
    update: counted(slack.update.bind(slack)),
    uploadFiles: counted(slack.uploadFiles.bind(slack)),
    usergroupMembers: counted(slack.usergroupMembers.bind(slack)),
  };
}

/** Checks are counted when their outcome is told: every Slack check (and re-check) passes here once. */
export function countingNotifier(notifier: CheckNotifier, metrics: XnodeMetrics): CheckNotifier {
  return {
    ...notifier,
    async finished(check, report, subscribers, approvals) {
      metrics.checkFinished(report);
      return notifier.finished(check, report, subscribers, approvals);
    },
    async failed(check, error, subscribers) {
      metrics.checkFailed();
      return notifier.failed(check, error, subscribers);
    },
  };
}

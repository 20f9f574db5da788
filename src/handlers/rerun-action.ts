// [Re-run] under a report: the same as `/xnode check <cluster>` by the clicker.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "../logger.js";
import { newRequestId, requestCheck, type RequestCheckDeps } from "./request-check.js";

export function rerunActionListener(deps: { clusters: readonly string[]; logger: Logger; requestCheckDeps: RequestCheckDeps }) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const requestId = newRequestId();
    const log = deps.logger.child({ requestId, user: body.user.id });
    const cluster = action.value ?? "";
    const channel = body.channel?.id;
    if (!deps.clusters.includes(cluster) || !channel) {
      log.warn({ cluster }, "re-run for an unknown cluster");
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: `Cannot re-run: "${cluster}" is not a configured cluster (anymore). Use /xnode clusters.`,
      });
      return;
    }
    await requestCheck({ ...deps.requestCheckDeps, logger: log }, { cluster, user: body.user.id, channel, requestId });
  };
}

// A button press no listener of ours takes (an action id changed in transit,
// a button from an older xnode): acked within Slack's 3 s and answered, where
// Bolt would leave it unacknowledged and answer 404 after its timeout.
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "../logger.js";

export function unknownActionListener(deps: { isKnown: (actionId: string) => boolean; logger: Logger }) {
  return async ({ ack, action, body, respond }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    const actionId = "action_id" in action ? action.action_id : "";
    if (deps.isKnown(actionId)) return; // its own listener acks it
    await ack();
    deps.logger.warn({ actionId: actionId.slice(0, 100), user: body.user.id }, "button with an unknown action id");
    await respond({
      response_type: "ephemeral",
      replace_original: false,
      text: ":no_entry: This is not a button xnode knows; nothing was done. Press Re-run under the report for fresh buttons.",
    });
  };
}

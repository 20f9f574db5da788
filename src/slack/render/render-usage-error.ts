// The ephemeral answer to a command xnode could not take: what was wrong, then how to ask.
import { context, section, toMessage, type SlackMessage } from "./blocks.js";
import { code, escape } from "./mrkdwn.js";
import { usageLines } from "./render-help.js";

/** `problem` in operator words ("no cluster named cluster-z"); `input` is what they typed, echoed back. */
export function renderUsageError(problem: string, input?: string): SlackMessage {
  const typed = input === undefined ? "" : `\nYou typed: ${code(input)}`;
  return toMessage(escape(`xnode: ${problem}`), [
    section(`:warning: ${escape(problem)}${typed}`),
    section(["*Usage*", ...usageLines()].join("\n")),
    context("`/xnode clusters` lists the cluster names you can use."),
  ]);
}

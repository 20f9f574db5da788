// `/xnode clusters`: the configured clusters and, where known, how their last check went.
import { context, header, packSections, toMessage, type SlackMessage } from "./blocks.js";
import { bold, code, plural } from "./mrkdwn.js";
import { outcomeLine, type CheckOutcome } from "./verdict.js";

export interface ClusterListing {
  name: string;
  last?: CheckOutcome;
}

export function renderClusters(clusters: readonly ClusterListing[], now: Date): SlackMessage {
  if (clusters.length === 0) {
    return toMessage("xnode: no clusters configured", [
      context(`No clusters configured. Add them under ${code("clusters:")} in the ${code("XNODE_CONFIG")} file.`),
    ]);
  }
  const lines = clusters.map((c) => `• ${c.last ? outcomeLine(c.name, c.last, now) : `${bold(c.name)} · not checked yet`}`);
  return toMessage(`xnode: ${plural(clusters.length, "cluster")} configured`, [
    header("Clusters"),
    ...packSections(lines),
    context(`Check one with ${code("/xnode check <cluster>")}`),
  ]);
}

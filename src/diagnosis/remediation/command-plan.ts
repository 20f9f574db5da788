// Host-agent fixes are argv lists per node; what a person approves is the
// same commands, one line each.
import type { RemediationPlan } from "../../model/index.js";

export type NodeCommand = { node: string; argv: string[] };

export function commandPlan(kind: RemediationPlan["kind"], summary: string, commands: NodeCommand[], persistent: boolean, risks: string[]): RemediationPlan {
  return { kind, summary, commands, diff: commands.map((c) => `${c.node}: ${c.argv.join(" ")}`), persistent, risks };
}

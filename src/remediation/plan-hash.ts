// What an approval is bound to: the plan's actionable content only (kind,
// patch target and ops, per-node commands, the custom object written, the
// pods restarted), not its wording, so rephrasing a
// summary or risk never invalidates an approval and changing a command always does.
import type { RemediationPlan } from "../model/index.js";
import { canonicalJson, sha256Hex } from "./canonical.js";

export function planHash(plan: RemediationPlan): string {
  return sha256Hex(
    canonicalJson({
      kind: plan.kind,
      // op order and command order are part of what runs: kept as given
      patch: plan.patch ? { namespace: plan.patch.namespace, name: plan.patch.name, ops: plan.patch.ops } : null,
      commands: plan.commands ? plan.commands.map((c) => ({ node: c.node, argv: c.argv })) : null,
      // absent fields stay out of the hash, so plans without them hash as before
      customObject: plan.customObject,
      restartPods: plan.restartPods,
      nodePatches: plan.nodePatches,
    }),
  );
}

// The part of the live cluster a plan depends on, recorded when the plan is
// shown for approval and compared again right before it runs: if it moved,
// the plan was made for a cluster that no longer exists and is refused.
// Per kind: the DaemonSet's metadata.generation for a patch or pod restarts
// (its resourceVersion moves with every status write, generation only with
// the spec); a custom object's valuesContent; for host commands the state
// those commands touch on their nodes (whole route table for routes, the
// edited iptables tables, the edited nftables chains, the written sysctls).
import { z } from "zod";
import type { ClusterSnapshot, RemediationPlan } from "../model/index.js";
import type { KubeClient } from "../kube/kube-client.js";
import { describeObject, refOf } from "./apply-custom-object.js";
import { annotationKeys } from "./apply-node-patches.js";
import { sha256Hex } from "./canonical.js";
import { parseHostAction, type HostAction } from "./host-actions.js";
import { nftChainHash } from "./nft-exec.js";
import { iptablesHash, nodeShell, readAddresses, readSysctl, routeTableHash } from "./node-exec.js";

export const liveFingerprintSchema = z.object({
  daemonSet: z.object({ namespace: z.string(), name: z.string(), found: z.boolean(), generation: z.number().optional() }).optional(),
  /** "<plural> <namespace>/<name>"; valuesHash: of spec.valuesContent, absent when it has none */
  customObject: z.object({ object: z.string(), found: z.boolean(), valuesHash: z.string().optional() }).optional(),
  /** node → hash of its main route table */
  routes: z.record(z.string(), z.string()).optional(),
  /** node → hash of the iptables tables the plan edits there */
  iptables: z.record(z.string(), z.string()).optional(),
  /** node → hash of the nftables chains the plan edits there */
  nftables: z.record(z.string(), z.string()).optional(),
  /** node → hash of the addresses of the devices the plan edits there */
  addresses: z.record(z.string(), z.string()).optional(),
  /** node → annotation key → its value (null: not set), for the annotations a Node patch of the plan edits */
  nodeAnnotations: z.record(z.string(), z.record(z.string(), z.string().nullable())).optional(),
  /** node → sysctl key → value */
  sysctls: z.record(z.string(), z.record(z.string(), z.string())).optional(),
});
export type LiveFingerprint = z.infer<typeof liveFingerprintSchema>;

/** Node → parsed actions, in plan order; throws FIX_ABORTED for a command xnode does not apply. */
export function actionsByNode(plan: Pick<RemediationPlan, "commands">): Map<string, { argv: string[]; action: HostAction }[]> {
  const out = new Map<string, { argv: string[]; action: HostAction }[]>();
  for (const c of plan.commands ?? []) {
    const list = out.get(c.node) ?? [];
    list.push({ argv: c.argv, action: parseHostAction(c.argv) });
    out.set(c.node, list);
  }
  return out;
}

export async function takeFingerprint(
  kube: KubeClient,
  snapshot: ClusterSnapshot,
  plan: Pick<RemediationPlan, "patch" | "commands" | "customObject" | "restartPods" | "nodePatches">,
  opts: { execTimeoutMs?: number } = {},
): Promise<LiveFingerprint> {
  const fp: LiveFingerprint = {};
  const target = plan.patch ?? (plan.restartPods && { namespace: plan.restartPods.namespace, name: plan.restartPods.daemonSet });
  if (target) {
    const { namespace, name } = target;
    const ds = await kube.getDaemonSet(namespace, name);
    fp.daemonSet = { namespace, name, found: ds !== undefined, ...(ds?.metadata.generation !== undefined ? { generation: ds.metadata.generation } : {}) };
  }
  if (plan.customObject) {
    const ref = refOf(plan.customObject);
    const o = await kube.getCustomObject(ref);
    const values = o?.spec?.valuesContent;
    fp.customObject = { object: describeObject(ref), found: o !== undefined, ...(typeof values === "string" ? { valuesHash: sha256Hex(values) } : {}) };
  }
  if (plan.nodePatches) {
    const nodes = await kube.listNodes();
    for (const patch of plan.nodePatches) {
      const annotations = nodes.find((n) => n.metadata.name === patch.node)?.metadata.annotations ?? {};
      (fp.nodeAnnotations ??= {})[patch.node] = Object.fromEntries(annotationKeys(patch).map((key) => [key, annotations[key] ?? null]));
    }
  }
  const byNode = actionsByNode(plan);
  await Promise.all(
    [...byNode].map(async ([node, items]) => {
      const shell = nodeShell(kube, snapshot, node, opts.execTimeoutMs);
      const actions = items.map((i) => i.action);
      if (actions.some((a) => a.kind === "route")) (fp.routes ??= {})[node] = await routeTableHash(shell);
      // each edited table of each ruleset the commands name (iptables, iptables-legacy, iptables-nft)
      const tables = [...new Map(actions.flatMap((a) => (a.kind === "iptables" ? [[`${a.tool ?? "iptables"} ${a.table}`, a] as const] : []))).entries()].sort(
        ([a], [b]) => (a < b ? -1 : 1),
      );
      if (tables.length > 0) {
        const hashes = await Promise.all(tables.map(([, a]) => iptablesHash(shell, a.table, a)));
        (fp.iptables ??= {})[node] = sha256Hex(hashes.join("\n"));
      }
      const chains = [...new Map(actions.flatMap((a) => (a.kind === "nft" ? [[`${a.family} ${a.table} ${a.chain}`, a] as const] : []))).entries()].sort(
        ([a], [b]) => (a < b ? -1 : 1),
      );
      if (chains.length > 0) {
        const hashes = await Promise.all(chains.map(([, c]) => nftChainHash(shell, c)));
        (fp.nftables ??= {})[node] = sha256Hex(hashes.join("\n"));
      }
      const devices = [...new Set(actions.flatMap((a) => (a.kind === "addr" ? [a.dev] : [])))].sort();
      if (devices.length > 0) {
        const listed = await Promise.all(devices.map(async (dev) => `${dev}: ${(await readAddresses(shell, dev)).join(" ")}`));
        (fp.addresses ??= {})[node] = sha256Hex(listed.join("\n"));
      }
      for (const a of actions) if (a.kind === "sysctl") ((fp.sysctls ??= {})[node] ??= {})[a.key] = await readSysctl(shell, a.key);
    }),
  );
  return fp;
}

/** What changed between two fingerprints of the same plan, in operator words; undefined when nothing did. */
export function describeDrift(before: LiveFingerprint, now: LiveFingerprint): string | undefined {
  const changes: string[] = [];
  if (before.daemonSet) {
    const { namespace, name, found, generation } = before.daemonSet;
    const current = now.daemonSet?.namespace === namespace && now.daemonSet.name === name ? now.daemonSet : undefined;
    if (found && !current?.found) changes.push(`DaemonSet ${namespace}/${name} no longer exists`);
    else if (current && current.generation !== generation) {
      changes.push(`DaemonSet ${namespace}/${name} changed: generation ${generation ?? "(none)"} → ${current.generation ?? "(none)"}`);
    }
  }
  if (before.customObject) {
    const { object, found, valuesHash } = before.customObject;
    const current = now.customObject?.object === object ? now.customObject : undefined;
    if (!current || current.found !== found) changes.push(found ? `${object} no longer exists` : `${object} was created since the plan was made`);
    else if (current.valuesHash !== valuesHash) changes.push(`${object}'s valuesContent changed since the plan was made`);
  }
  for (const [node, hash] of Object.entries(before.routes ?? {})) {
    if (now.routes?.[node] !== hash) changes.push(`routes on ${node} changed since the plan was made`);
  }
  for (const [node, hash] of Object.entries(before.iptables ?? {})) {
    if (now.iptables?.[node] !== hash) changes.push(`iptables rules on ${node} changed since the plan was made`);
  }
  for (const [node, hash] of Object.entries(before.nftables ?? {})) {
    if (now.nftables?.[node] !== hash) changes.push(`nftables rules on ${node} changed since the plan was made`);
  }
  for (const [node, hash] of Object.entries(before.addresses ?? {})) {
    if (now.addresses?.[node] !== hash) changes.push(`addresses on ${node} changed since the plan was made`);
  }
  for (const [node, values] of Object.entries(before.nodeAnnotations ?? {})) {
    for (const [key, value] of Object.entries(values)) {
      const current = now.nodeAnnotations?.[node]?.[key] ?? null;
      const show = (v: string | null) => (v === null ? "(unset)" : JSON.stringify(v));
      if (current !== value) changes.push(`annotation ${key} of Node ${node} changed: ${show(value)} → ${show(current)}`);
    }
  }
  for (const [node, values] of Object.entries(before.sysctls ?? {})) {
    for (const [key, value] of Object.entries(values)) {
      const current = now.sysctls?.[node]?.[key];
      if (current !== value) changes.push(`${key} on ${node} changed: ${value} → ${current ?? "(unreadable)"}`);
    }
  }
  return changes.length > 0 ? changes.join("; ") : undefined;
}

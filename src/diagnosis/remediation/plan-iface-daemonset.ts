// patch-flannel-iface on a flannel DaemonSet (upstream manifests of every era,
// kubespray, flannel's Helm chart, a configured location): the flannel
// container's args, or its FLANNELD_* env when that is what flanneld reads
// (flanneld takes FLANNELD_<FLAG> only for a flag not on its command line);
// pods replaced one node at a time under OnDelete; and, when something
// re-applies the DaemonSet later (a Helm upgrade, an Argo CD or Flux sync,
// kubespray's next run), the change to commit there instead.
import { stringify } from "yaml";
import type { CheckEvidence, FlannelDaemonSetInfo, FlannelEnvVar, RemediationPlan } from "../../model/index.js";
import { IFACE_SELECTION_FLAGS } from "../flannel-flags.js";
import { argsDiffLine, envDiffLine, restartDiffLine } from "./flannel-diff-lines.js";
import { withIfaceFlag, type IfaceChoice } from "./iface-flags.js";

type Op = NonNullable<RemediationPlan["patch"]>["ops"][number];

export const envNameOf = (flag: string) => `FLANNELD_${flag.toUpperCase().replace(/-/g, "_")}`;

/** The env entries that feed interface-selection flags flanneld really takes from the env (none of them on its command line). */
function ifaceEnvInUse(ev: CheckEvidence, ds: FlannelDaemonSetInfo): FlannelEnvVar[] {
  const flags = ev.snapshot.flannel.flags ?? [];
  return IFACE_SELECTION_FLAGS.flatMap((name) => {
    if (flags.find((f) => f.name === name)?.source !== "env") return [];
    return ds.env?.filter((e) => e.name === envNameOf(name)) ?? [];
  });
}

function onCommandLine(ev: CheckEvidence): boolean {
  return (ev.snapshot.flannel.flags ?? []).some((f) => IFACE_SELECTION_FLAGS.includes(f.name) && (f.source === "args" || f.source === "command"));
}

/** `test` ops that the env entry still is what the check read. */
function envTests(path: string, e: FlannelEnvVar): Op[] {
  const tests: Op[] = [{ op: "test", path: `${path}/name`, value: e.name }];
  if (e.configMapKey) {
    tests.push({ op: "test", path: `${path}/valueFrom/configMapKeyRef/name`, value: e.configMapKey.name });
    tests.push({ op: "test", path: `${path}/valueFrom/configMapKeyRef/key`, value: e.configMapKey.key });
  } else if (e.value !== undefined) {
    tests.push({ op: "test", path: `${path}/value`, value: e.value });
  }
  return tests;
}

const SYNC: Record<string, string> = { helm: "helm upgrade", argocd: "Argo CD sync", flux: "Flux reconciliation", kubespray: "kubespray run (cluster.yml)" };

function managerObject(kind: string, release: string | undefined): string {
  const name = release ?? "(name not recorded)";
  return kind === "argocd" ? `Argo CD application ${name}` : kind === "flux" ? `Flux object ${name}` : `Helm release ${name}`;
}

/** Who re-applies this DaemonSet later, and the lasting change to commit there. */
function revertedBy(
  ev: CheckEvidence,
  ds: FlannelDaemonSetInfo,
  choice: IfaceChoice,
  change: { args: string[] } | { env: { name: string; value: string } },
): RemediationPlan["revertedBy"] {
  const { manager, distribution } = ev.snapshot.flannel;
  if (manager && manager.kind !== "rke2-helm-controller") {
    const owner = managerObject(manager.kind, manager.release);
    if (distribution === "helm" && "args" in change) {
      return {
        manager: manager.kind,
        evidence: manager.evidence,
        commitTo: `the values of flannel's chart in ${owner} (chart value flannel.args)`,
        values: stringify({ flannel: { args: change.args } }),
      };
    }
    const container = "args" in change ? { name: ds.container, args: change.args } : { name: ds.container, env: [change.env] };
    const manifest = stringify({ spec: { template: { spec: { containers: [container] } } } });
    // A GitOps tool may apply the manifest itself or render flannel's chart from values: the DaemonSet looks the same either way.
    const chart = manager.kind !== "helm" && "args" in change;
    return {
      manager: manager.kind,
      evidence: manager.evidence,
      commitTo: chart
        ? `the source of ${owner}: the chart value flannel.args if it renders flannel's Helm chart (first document), else the DaemonSet ${ds.namespace}/${ds.name} it applies (second)`
        : `the DaemonSet ${ds.namespace}/${ds.name} manifest that ${owner} applies (container ${ds.container}${"env" in change ? `, env ${change.env.name}` : ""})`,
      values: chart ? `${stringify({ flannel: { args: change.args } })}---\n${manifest}` : manifest,
    };
  }
  if (distribution === "kubespray") {
    const key = choice.flagName === "iface" ? "flannel_interface" : "flannel_interface_regexp";
    return {
      manager: "kubespray",
      evidence: `DaemonSet ${ds.namespace}/${ds.name} as kubespray renders it`,
      commitTo: "the inventory's group_vars/k8s_cluster/k8s-net-flannel.yml (kubespray renders the DaemonSet from it on every run)",
      values: stringify({ [key]: choice.value }),
    };
  }
  return undefined;
}

export function planDaemonSetIface(ev: CheckEvidence, ds: FlannelDaemonSetInfo, choice: IfaceChoice, expected: Record<string, string>): RemediationPlan {
  const container = `/spec/template/spec/containers/${ds.containerIndex}`;
  const inEnv = ifaceEnvInUse(ev, ds);
  const target = envNameOf(choice.flagName);
  const envEntry = ds.env?.find((e) => e.name === target);
  // The env is changed only where it is what flanneld reads and holds the chosen flag; anything else goes on the command line, which wins.
  const useEnv = !onCommandLine(ev) && envEntry !== undefined && inEnv.includes(envEntry);
  const ops: Op[] = [{ op: "test", path: `${container}/name`, value: ds.container }];
  const diff: string[] = [];
  const envLines: [string, string][] = [];
  let change: { args: string[] } | { env: { name: string; value: string } };
  if (useEnv) {
    const path = `${container}/env/${envEntry.index}`;
    ops.push(...envTests(path, envEntry), { op: "replace", path, value: { name: target, value: choice.value } });
    envLines.push([target, envDiffLine(target, envEntry, { value: choice.value })]);
    change = { env: { name: target, value: choice.value } };
  } else {
    const args = withIfaceFlag(ds.args, choice.flag);
    const stored = ds.command ? ds.args.slice(ds.command.length - 1) : ds.args;
    if (ds.command) ops.push({ op: "test", path: `${container}/command`, value: ds.command });
    if (stored.length > 0) ops.push({ op: "test", path: `${container}/args`, value: stored });
    // Flags in `command` (old manifests) move to args, or an --iface there would still win; "add" also creates args when there are none.
    if (ds.command) ops.push({ op: "replace", path: `${container}/command`, value: ds.command.slice(0, 1) });
    ops.push({ op: "add", path: `${container}/args`, value: args });
    diff.push(argsDiffLine(ds.args, args));
    change = { args };
  }
  // Other interface flags read from the env would still be tried (--iface before --iface-regex): they go.
  const dropped = inEnv.filter((e) => e.name !== target).sort((a, b) => b.index - a.index);
  for (const e of dropped) {
    const path = `${container}/env/${e.index}`;
    ops.push(...envTests(path, e), { op: "remove", path });
    envLines.push([e.name, envDiffLine(e.name, e, undefined)]);
  }
  diff.push(...envLines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line));

  const onDelete = ds.updateStrategy === "OnDelete";
  const podNodes = ev.snapshot.nodes.map((n) => n.name).filter((n) => ev.snapshot.flannel.pods.some((p) => p.node === n));
  if (onDelete) diff.push(restartDiffLine(ds.name, podNodes));
  const revert = revertedBy(ev, ds, choice, change);
  const where = useEnv ? `its ${target} env in DaemonSet ${ds.namespace}/${ds.name}` : `DaemonSet ${ds.namespace}/${ds.name}`;
  const fromConfigMap = [...(useEnv ? [envEntry] : []), ...dropped].flatMap((e) => (e.configMapKey ? [{ env: e.name, ...e.configMapKey }] : []));
  return {
    kind: "patch-flannel-iface",
    summary:
      `Make flannel use the interface that reaches every node (${choice.flag}) in ${where}` +
      (revert ? `; temporary: the next ${SYNC[revert.manager] ?? "sync"} reverts it unless the values shown are committed` : ""),
    patch: { namespace: ds.namespace, name: ds.name, ops },
    ...(onDelete ? { restartPods: { namespace: ds.namespace, daemonSet: ds.name, nodes: podNodes } } : {}),
    expectedPublicIPs: expected,
    ...(revert ? { revertedBy: revert } : {}),
    diff,
    persistent: true,
    risks: [
      ...(revert
        ? [
            `The next ${SYNC[revert.manager] ?? "sync"} reverts this patch (${revert.evidence}): to keep the fix, commit the values shown to ${revert.commitTo}.`,
          ]
        : []),
      `The setting applies to every node: a node without ${choice.needs} crash-loops flannel ("Failed to find interface to use that matches the interfaces and/or regexes provided"), including nodes added later.`,
      onDelete
        ? `The DaemonSet's updateStrategy is OnDelete, so the patch replaces no pod by itself: xnode deletes flannel's pod on each node in turn and waits until its replacement is Ready and has programmed the node before the next. Cross-node pod traffic pauses briefly on each node.`
        : "The rollout restarts flannel node by node and recreates flannel.1 with the new VTEP address: cross-node pod traffic pauses briefly on each node.",
      ...fromConfigMap.map((e) => `${e.env} came from ConfigMap ${e.name} key ${e.key}: after the patch that key no longer reaches flannel.`),
      `The patch is refused if flannel's container changed after the check read it (its ${useEnv ? "env" : "args"} are compared as read, not the resourceVersion that status updates move); re-run the check then.`,
    ],
  };
}

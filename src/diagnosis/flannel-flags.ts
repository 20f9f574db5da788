// flanneld's effective flags as the rules read them: per node on k3s (from
// k3s.io/node-args), else the DaemonSet's (command, args, then FLANNELD_* env).
import type { CheckEvidence, FlannelFlag } from "../model/index.js";
import { nodeNamed } from "./cluster-view.js";

export const IFACE_SELECTION_FLAGS = ["iface", "iface-regex", "iface-can-reach"];

export function flannelFlagsOn(ev: CheckEvidence, node: string): readonly FlannelFlag[] {
  return nodeNamed(ev, node)?.flannel.flags ?? ev.snapshot.flannel.flags ?? [];
}

export function flagNamed(flags: readonly FlannelFlag[], name: string): FlannelFlag | undefined {
  return flags.find((f) => f.name === name);
}

/** "--iface=enp0s3 (env FLANNELD_IFACE ← ConfigMap kube-system/rke2-canal-config key canal_iface)" */
export function describeFlag(flag: FlannelFlag): string {
  const values = flag.values.length ? flag.values.map((v) => `--${flag.name}=${v}`).join(" ") : `--${flag.name}`;
  return `${values} (${flag.from})`;
}

/** The flags that choose flannel's interface, in the order flanneld tries them. */
export function ifaceSelection(flags: readonly FlannelFlag[]): FlannelFlag[] {
  return IFACE_SELECTION_FLAGS.flatMap((name) => flagNamed(flags, name) ?? []);
}

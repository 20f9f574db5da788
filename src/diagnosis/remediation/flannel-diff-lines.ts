// The lines a person approves for a change of flannel's configuration, made
// by one set of functions from the planner's view (the snapshot) and from the
// dry run's (the API server's answer), so the two compare line for line.
import { parse } from "yaml";

/** An env var's value as shown: a literal, where a ConfigMap key feeds it from, or that it is not set. */
export interface EnvValue {
  value?: string;
  configMapKey?: { name: string; key: string };
}

export function argsDiffLine(before: readonly string[], after: readonly string[]): string {
  return `args: [${before.join(", ")}] → [${after.join(", ")}]`;
}

function describeEnv(v: EnvValue | undefined): string {
  if (!v) return "(unset)";
  if (v.configMapKey) return `(ConfigMap ${v.configMapKey.name} key ${v.configMapKey.key})`;
  return v.value === undefined ? "(unset)" : JSON.stringify(v.value);
}

/** `env FLANNELD_IFACE: (ConfigMap rke2-canal-config key canal_iface) → "enp0s8"` */
export function envDiffLine(name: string, before: EnvValue | undefined, after: EnvValue | undefined): string {
  return `env ${name}: ${describeEnv(before)} → ${describeEnv(after)}`;
}

/** `HelmChartConfig kube-system/rke2-canal (new): flannel.iface: (unset) → "enp0s8"` */
export function valuesDiffLine(what: string, created: boolean, key: string, before: unknown, after: unknown): string {
  const show = (v: unknown) => (v === undefined || v === null ? "(unset)" : JSON.stringify(v));
  return `${what}${created ? " (new)" : ""}: ${key}: ${show(before)} → ${show(after)}`;
}

export function restartDiffLine(daemonSet: string, nodes: readonly string[]): string {
  return `then restart the pods of ${daemonSet} one node at a time (${nodes.join(", ")}), each Ready and programmed before the next`;
}

/** The flannel values a HelmChartConfig's valuesContent changes (flannel.iface, flannel.regexIface), one line each, in key order. */
export function helmValuesDiffLines(what: string, created: boolean, before: string | undefined, after: string | undefined): string[] {
  const read = (text: string | undefined) => (parse(text ?? "") ?? {}) as { flannel?: Record<string, unknown> };
  const was = read(before).flannel ?? {};
  const now = read(after).flannel ?? {};
  return ["iface", "regexIface"]
    .filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]))
    .map((k) => valuesDiffLine(what, created, `flannel.${k}`, was[k], now[k]));
}

// flanneld's command line as it resolves it: the container's command after the
// binary, then its args (what the kubelet passes), then FLANNELD_<FLAG> from
// the environment for each flag the command line did not set: flannel's
// main.go calls coreos/pkg flagutil.SetFlagsFromEnv, which skips flags
// already set and empty values. Only the flags the lab acts on are looked up.
import { parseFlagNames } from "../dataplane/flannel-args.js";

/** Flags whose FLANNELD_* variable the lab honours (the ones that shape the data plane). */
const ENV_FLAGS = ["iface", "iface-regex", "iface-can-reach", "public-ip", "ip-masq", "iptables-forward-rules"] as const;

export const envNameOf = (flag: string): string => `FLANNELD_${flag.toUpperCase().replaceAll("-", "_")}`;

export interface ContainerEnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string; optional?: boolean } };
}

export interface FlannelContainer {
  command?: string[];
  args?: string[];
  env?: ContainerEnvVar[];
}

/** A container's environment as the kubelet builds it: later entries win, configMapKeyRef resolved (unreadable: absent). */
export function resolveEnv(env: readonly ContainerEnvVar[], configMapKey: (name: string, key: string) => string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of env) {
    const ref = e.valueFrom?.configMapKeyRef;
    const value = ref ? configMapKey(ref.name, ref.key) : (e.value ?? "");
    if (value !== undefined) out.set(e.name, value);
  }
  return out;
}

/** The argv flanneld acts on: command-line flags, then `--flag=value` for each env-provided one. */
export function effectiveFlannelArgs(c: FlannelContainer, configMapKey: (name: string, key: string) => string | undefined): string[] {
  const cmdline = [...(c.command ?? []).slice(1), ...(c.args ?? [])];
  const onCmdline = parseFlagNames(cmdline);
  const env = resolveEnv(c.env ?? [], configMapKey);
  const fromEnv = ENV_FLAGS.filter((f) => !onCmdline.has(f) && (env.get(envNameOf(f)) ?? "") !== "").map((f) => `--${f}=${env.get(envNameOf(f))}`);
  return [...cmdline, ...fromEnv];
}

// flannel's configuration in a DaemonSet as flanneld sees it: its flags from
// command (after the binary) and args, its FLANNELD_* env with ConfigMap keys
// read, and the ConfigMap its pod template mounts for net-conf.json.
import type { KubeClient } from "../kube/kube-client.js";
import type { KubeConfigMap, KubeDaemonSet, KubeEnvVar } from "../kube/types.js";
import type { FlannelDaemonSetInfo, FlannelEnvVar, FlannelFlag } from "../model/index.js";
import { effectiveFlags, parseFlanneldArgv, type ResolvedEnv } from "./flanneld-flags.js";
import type { FoundContainer } from "./flannel-pods.js";
import { describeGet, type Refusals } from "./refusals.js";

const DEFAULT_NET_CONF = "/etc/kube-flannel/net-conf.json";

/** Reads each ConfigMap once per discovery; undefined when missing or refused. */
export type ConfigMapReader = (name: string) => Promise<KubeConfigMap | undefined>;

export function configMapReader(kube: KubeClient, namespace: string, refusals: Refusals, grantedBy: string): ConfigMapReader {
  const cache = new Map<string, Promise<KubeConfigMap | undefined>>();
  return (name) => {
    let read = cache.get(name);
    if (!read) {
      read = refusals.read(describeGet("configmaps", name, namespace), grantedBy, () => kube.getConfigMap(namespace, name));
      cache.set(name, read);
    }
    return read;
  };
}

export function daemonSetInfo(ds: KubeDaemonSet, found: FoundContainer): FlannelDaemonSetInfo {
  const { container, index } = found;
  const command = container.command ?? [];
  const env = (container.env ?? []).flatMap((e, i): FlannelEnvVar[] =>
    e.name.startsWith("FLANNELD_")
      ? [
          {
            name: e.name,
            ...(e.value !== undefined ? { value: e.value } : {}),
            ...(e.valueFrom?.configMapKeyRef ? { configMapKey: { name: e.valueFrom.configMapKeyRef.name, key: e.valueFrom.configMapKeyRef.key } } : {}),
            index: i,
          },
        ]
      : [],
  );
  const strategy = ds.spec?.updateStrategy?.type;
  return {
    namespace: ds.metadata.namespace ?? "",
    name: ds.metadata.name,
    container: container.name,
    containerIndex: index,
    args: [...command.slice(1), ...(container.args ?? [])],
    ...(command.length > 1 ? { command } : {}),
    ...(env.length ? { env } : {}),
    ...(strategy === "OnDelete" ? { updateStrategy: "OnDelete" as const } : {}),
    selector: ds.spec?.selector?.matchLabels ?? ds.spec?.template?.metadata?.labels ?? {},
    resourceVersion: ds.metadata.resourceVersion,
    generation: ds.metadata.generation,
  };
}

/** FLANNELD_* values with their ConfigMap keys read; fills `value` in `info.env` as the container would see it. */
async function resolveEnv(info: FlannelDaemonSetInfo, env: readonly KubeEnvVar[], read: ConfigMapReader, warnings: string[]): Promise<ResolvedEnv[]> {
  const resolved: ResolvedEnv[] = [];
  for (const v of info.env ?? []) {
    if (!v.configMapKey) {
      resolved.push({ name: v.name, value: v.value, from: `env ${v.name}` });
      continue;
    }
    const { name, key } = v.configMapKey;
    const cm = await read(name);
    const value = cm?.data?.[key];
    const optional = env[v.index]?.valueFrom?.configMapKeyRef?.optional === true;
    if (value !== undefined) v.value = value;
    else if (!cm) warnings.push(`ConfigMap ${info.namespace}/${name} (env ${v.name}) is not readable: flannel's ${v.name} is unknown`);
    else if (!optional) warnings.push(`ConfigMap ${info.namespace}/${name} has no key ${key}: the kubelet cannot start flannel's container (env ${v.name})`);
    resolved.push({ name: v.name, value, from: `env ${v.name} ← ConfigMap ${info.namespace}/${name} key ${key}` });
  }
  return resolved;
}

/** The ConfigMap and key flanneld reads net-conf.json from: the volume mounted over --net-config-path's directory. */
export function netConfSource(ds: KubeDaemonSet, found: FoundContainer, flags: readonly FlannelFlag[]): { configMap: string; key: string } | undefined {
  const path = flags.find((f) => f.name === "net-config-path")?.values.at(-1) ?? DEFAULT_NET_CONF;
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash);
  const mount = (found.container.volumeMounts ?? []).find((m) => m.mountPath.replace(/\/+$/, "") === dir);
  const volume = mount && ds.spec?.template?.spec?.volumes?.find((v) => v.name === mount.name);
  return volume?.configMap ? { configMap: volume.configMap.name, key: path.slice(slash + 1) } : undefined;
}

export interface DaemonSetConfig {
  info: FlannelDaemonSetInfo;
  flags: FlannelFlag[];
}

export async function readDaemonSetConfig(ds: KubeDaemonSet, found: FoundContainer, read: ConfigMapReader, warnings: string[]): Promise<DaemonSetConfig> {
  const info = daemonSetInfo(ds, found);
  const command = found.container.command ?? [];
  const commandLine = parseFlanneldArgv([
    { argv: command.slice(1), source: "command" },
    { argv: found.container.args ?? [], source: "args" },
  ]);
  const env = await resolveEnv(info, found.container.env ?? [], read, warnings);
  return { info, flags: effectiveFlags(commandLine, env) };
}

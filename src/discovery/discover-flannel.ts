// Finds how flannel is installed and reads its effective configuration: the
// `flannel` part of a cluster snapshot, plus k3s's per-node flags.
import type { KubeClient } from "../kube/kube-client.js";
import type { KubeNode, KubePod } from "../kube/types.js";
import type { ClusterSnapshot, FlannelFlag, FlannelLocation } from "../model/index.js";
import { configMapReader, netConfSource, readDaemonSetConfig, type ConfigMapReader } from "./daemonset-config.js";
import { findFlannelDaemonSet } from "./find-flannel-daemonset.js";
import { detectManager } from "./flannel-manager.js";
import { CONFIGURED_COMPONENT, FLANNEL_CONFIGMAP, HELM_COMPONENT, namedDaemonSets, RKE2_CANAL, RKE2_COMPONENT } from "./flannel-names.js";
import { flannelContainer, flannelPods } from "./flannel-pods.js";
import { k3sRunsFlannel, parseK3sNodeArgs } from "./k3s-node-args.js";
import { parseNetConf, type NetConf } from "./net-conf.js";
import { describeGet, Refusals } from "./refusals.js";

export type FlannelSnapshot = ClusterSnapshot["flannel"];

export interface Discovery {
  flannel: FlannelSnapshot;
  /** k3s: flannel's flags per node, from k3s.io/node-args */
  nodeFlags: Map<string, FlannelFlag[]>;
  warnings: string[];
}

const VXLAN_DEFAULTS = { vxlanPort: 8472, vni: 1 };

function fromNetConf(conf: NetConf): Pick<FlannelSnapshot, "network" | "backendType" | "vxlanPort" | "vni" | "enableNFTables" | "enableIPv4" | "ipv6Network"> {
  return {
    ...(conf.network !== undefined ? { network: conf.network } : {}),
    ...(conf.backendType !== undefined ? { backendType: conf.backendType } : {}),
    // 0 means "the default" to flannel, like an absent key
    vxlanPort: conf.port || VXLAN_DEFAULTS.vxlanPort,
    vni: conf.vni || VXLAN_DEFAULTS.vni,
    ...(conf.enableNFTables !== undefined ? { enableNFTables: conf.enableNFTables } : {}),
    ...(conf.enableIPv4 !== undefined ? { enableIPv4: conf.enableIPv4 } : {}),
    ...(conf.ipv6Network !== undefined ? { ipv6Network: conf.ipv6Network } : {}),
  };
}

/** k3s writes net-conf.json on each node (not readable through the API); its backend comes from --flannel-backend. */
function discoverK3s(nodes: readonly KubeNode[]): Discovery | undefined {
  const parsed = nodes.map((n) => ({ node: n.metadata.name, args: parseK3sNodeArgs(n.metadata.annotations) }));
  const running = parsed.filter((p) => p.args && k3sRunsFlannel(p.args));
  if (running.length === 0) return undefined;
  const backend = running[0]!.args!.backend;
  return {
    flannel: {
      distribution: "k3s",
      flags: [],
      ...(backend === "vxlan" || backend === "host-gw" ? { backendType: backend } : {}),
      ...VXLAN_DEFAULTS,
      pods: [],
    },
    nodeFlags: new Map(running.map((p) => [p.node, p.args!.flags])),
    warnings: [],
  };
}

async function readHelmChartConfig(kube: KubeClient, refusals: Refusals): Promise<FlannelSnapshot["helmChartConfig"]> {
  const ref = RKE2_CANAL.helmChartConfig;
  const before = refusals.requests.length;
  const hcc = await refusals.read(describeGet(ref.plural, ref.name, ref.namespace), RKE2_COMPONENT, () => kube.getCustomObject(ref));
  // refused: whether it exists is unknown, so it is left out (the refusal is in `forbidden`)
  if (refusals.requests.length > before) return undefined;
  const valuesContent = hcc?.spec?.valuesContent;
  return {
    namespace: ref.namespace,
    name: ref.name,
    exists: hcc !== undefined,
    ...(typeof valuesContent === "string" ? { valuesContent } : {}),
    ...(hcc?.metadata.resourceVersion ? { resourceVersion: hcc.metadata.resourceVersion } : {}),
  };
}

async function readNetConf(read: ConfigMapReader, where: string, source: { configMap: string; key: string }, warnings: string[]): Promise<NetConf> {
  const text = (await read(source.configMap))?.data?.[source.key];
  if (text === undefined) {
    warnings.push(`${where} not readable; assuming VXLAN port 8472, VNI 1`);
    return {};
  }
  const parsed = parseNetConf(text, where);
  warnings.push(...parsed.warnings);
  return parsed.conf;
}

function grantFor(distribution: string, namespace: string): string {
  if (distribution === "configured") return CONFIGURED_COMPONENT;
  if (distribution === "rke2-canal") return RKE2_COMPONENT;
  return namedDaemonSets().find((n) => n.namespace === namespace)?.grantedBy ?? HELM_COMPONENT;
}

export async function discoverFlannel(kube: KubeClient, nodes: readonly KubeNode[], allPods: readonly KubePod[], at?: FlannelLocation): Promise<Discovery> {
  const k3s = at ? undefined : discoverK3s(nodes);
  if (k3s) return k3s;
  const refusals = new Refusals();
  const warnings: string[] = [];
  const search = await findFlannelDaemonSet(kube, refusals, at);
  const found = search.found;
  const container = found && flannelContainer(found.ds, found.container);
  if (!found || !container) {
    const forbidden = refusals.requests;
    if (found)
      warnings.push(
        `DaemonSet ${found.ds.metadata.namespace}/${found.ds.metadata.name} has no container named ${found.container ?? "kube-flannel or flannel"}`,
      );
    else if (forbidden.length === 0) warnings.push(`no flannel installation found (tried ${search.tried}; k3s nodes carry k3s.io/node-args and none do)`);
    else warnings.push(`xnode was not allowed to look for flannel: ${forbidden.join("; ")}`);
    return { flannel: { ...VXLAN_DEFAULTS, pods: [], ...(forbidden.length ? { forbidden } : {}) }, nodeFlags: new Map(), warnings };
  }
  const { ds, distribution } = found;
  const namespace = ds.metadata.namespace ?? "";
  const read = configMapReader(kube, namespace, refusals, grantFor(distribution, namespace));
  const { info, flags } = await readDaemonSetConfig(ds, container, read, warnings);
  // what XNODE_CONFIG names, else what the pod template mounts where flanneld reads it
  const source = (found.configMap ? { configMap: found.configMap, key: "net-conf.json" } : netConfSource(ds, container, flags)) ?? {
    configMap: FLANNEL_CONFIGMAP,
    key: "net-conf.json",
  };
  const conf = await readNetConf(read, `ConfigMap ${namespace}/${source.configMap} ${source.key}`, source, warnings);
  const manager = detectManager(ds.metadata, distribution);
  const helmChartConfig = distribution === "rke2-canal" ? await readHelmChartConfig(kube, refusals) : undefined;
  const forbidden = refusals.requests.filter((r) => !r.startsWith("get daemonsets") && !r.startsWith("list daemonsets"));
  return {
    flannel: {
      distribution,
      ...(manager ? { manager } : {}),
      daemonSet: info,
      flags,
      ...(helmChartConfig ? { helmChartConfig } : {}),
      ...(forbidden.length ? { forbidden } : {}),
      ...fromNetConf(conf),
      pods: flannelPods(ds, allPods, info.container),
    },
    nodeFlags: new Map(),
    warnings,
  };
}

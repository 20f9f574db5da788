// RKE2's canal (rancher/rke2-charts packages/rke2-canal): DaemonSet rke2-canal
// in kube-system, label k8s-app=canal, containers calico-node and kube-flannel
// (flags in `command`), and FLANNELD_IFACE / FLANNELD_IFACE_REGEX /
// FLANNELD_IP_MASQ read from ConfigMap rke2-canal-config (keys canal_iface,
// canal_iface_regex, masquerade) through configMapKeyRef. The chart's values
// are the scenario's (its `env` FLANNELD_IFACE, FLANNELD_IFACE_REGEX and
// FLANNELD_IP_MASQ set those ConfigMap keys, as the chart would) merged with
// the HelmChartConfig rke2-canal's valuesContent, as RKE2's helm controller
// merges them.
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import type { Scenario } from "../scenario.js";
import { helmMetadata } from "./managers.js";
import { netConfJson } from "./net-conf.js";
import { configMapObject, daemonSetObject, FLANNEL_CONTAINER, podFieldEnv, scenarioEnv, updateStrategy, type InstallObjects } from "./objects.js";

export const RKE2_CANAL = { namespace: "kube-system", name: "rke2-canal", configMap: "rke2-canal-config" } as const;
/**
 * *(lab)* The chart's pod template carries no checksum of its ConfigMap; the
 * lab's imitation of the helm controller stamps the rendered values here so a
 * values change rolls the pods out (and moves metadata.generation) as the
 * controller's upgrade of a real RKE2 cluster is expected to.
 */
export const VALUES_CHECKSUM_ANNOTATION = "lab.xnode.dev/values-checksum";

/** The chart values the lab renders from (rke2-canal values.yaml's names). */
export interface CanalValues {
  flannel: { iface: string; regexIface: string; args: string[] };
  calico: { masquerade: boolean };
}

/** Env names the chart fills from its ConfigMap, with the value each one comes from. */
const CONFIGMAP_ENV = [
  ["FLANNELD_IFACE", "canal_iface"],
  ["FLANNELD_IFACE_REGEX", "canal_iface_regex"],
  ["FLANNELD_IP_MASQ", "masquerade"],
] as const;

export function baseCanalValues(s: Scenario): CanalValues {
  const env = s.flannel.env;
  return {
    flannel: { iface: env.FLANNELD_IFACE ?? "", regexIface: env.FLANNELD_IFACE_REGEX ?? "", args: [...s.flannel.args] },
    calico: { masquerade: (env.FLANNELD_IP_MASQ ?? "true") === "true" },
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Helm's values merge: maps merge key by key, everything else is replaced. */
function mergeValues(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeValues(out[k]!, v) : v;
  return out;
}

/**
 * The values after a HelmChartConfig's valuesContent (YAML). A valuesContent
 * that is not a YAML map, or gives a value of the wrong type, fails the
 * controller's Helm job: the error is returned and nothing is rendered.
 */
export function canalValuesWith(base: CanalValues, valuesContent: string | undefined): { ok: true; values: CanalValues } | { ok: false; error: string } {
  if (!valuesContent?.trim()) return { ok: true, values: base };
  let parsed: unknown;
  try {
    parsed = parseYaml(valuesContent);
  } catch (err) {
    return { ok: false, error: `valuesContent is not YAML: ${(err as Error).message}` };
  }
  if (parsed === null || parsed === undefined) return { ok: true, values: base };
  if (!isObject(parsed)) return { ok: false, error: "valuesContent must be a YAML map" };
  const merged = mergeValues(base as unknown as Json, parsed as Json) as unknown as CanalValues;
  const f = merged.flannel;
  if (typeof f?.iface !== "string" || typeof f.regexIface !== "string" || !Array.isArray(f.args) || !f.args.every((a) => typeof a === "string")) {
    return { ok: false, error: "flannel.iface and flannel.regexIface must be strings, flannel.args a list of strings" };
  }
  if (typeof merged.calico?.masquerade !== "boolean") return { ok: false, error: "calico.masquerade must be true or false" };
  return { ok: true, values: merged };
}

export function renderRke2Canal(s: Scenario, values: CanalValues): InstallObjects {
  const { namespace, name, configMap } = RKE2_CANAL;
  const labels = { "k8s-app": "canal" };
  const ds = daemonSetObject({
    name,
    namespace,
    labels,
    selector: labels,
    updateStrategy: updateStrategy(s),
    metadata: helmMetadata(name, namespace),
    podSpec: {
      nodeSelector: { "kubernetes.io/os": "linux" },
      hostNetwork: true,
      tolerations: [
        { effect: "NoSchedule", operator: "Exists" },
        { key: "CriticalAddonsOnly", operator: "Exists" },
        { effect: "NoExecute", operator: "Exists" },
      ],
      serviceAccountName: "canal",
      terminationGracePeriodSeconds: 0,
      priorityClassName: "system-node-critical",
      initContainers: [
        {
          name: "install-cni",
          image: "rancher/hardened-calico:v3.32.1-build20260819",
          command: ["/opt/cni/bin/install"],
          env: [{ name: "CNI_CONF_NAME", value: "10-canal.conflist" }],
        },
      ],
      containers: [
        {
          name: "calico-node",
          command: ["start_runit"],
          image: "rancher/hardened-calico:v3.32.1-build20260819",
          env: [
            { name: "DATASTORE_TYPE", value: "kubernetes" },
            { name: "CALICO_NETWORKING_BACKEND", value: "none" },
            { name: "CLUSTER_TYPE", value: "k8s,canal" },
            { name: "NODENAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          ],
          securityContext: { privileged: true },
        },
        {
          name: FLANNEL_CONTAINER,
          image: "rancher/hardened-flannel:v0.28.9-build20260819",
          command: ["/opt/bin/flanneld", ...values.flannel.args, "--healthz-port=8081"],
          securityContext: { privileged: true },
          env: [
            ...podFieldEnv(),
            ...CONFIGMAP_ENV.map(([env, key]) => ({ name: env, valueFrom: { configMapKeyRef: { name: configMap, key } } })),
            ...scenarioEnv(
              s,
              CONFIGMAP_ENV.map(([env]) => env),
            ),
          ],
          volumeMounts: [
            { mountPath: "/run/xtables.lock", name: "xtables-lock", readOnly: false },
            { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
          ],
        },
      ],
      volumes: [
        { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
        { name: "flannel-cfg", configMap: { name: configMap } },
      ],
    },
  });
  const template = (ds.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
  template.metadata.annotations = { [VALUES_CHECKSUM_ANNOTATION]: createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 16) };
  const cm = configMapObject(
    configMap,
    namespace,
    {},
    {
      typha_service_name: "none",
      canal_iface: values.flannel.iface,
      canal_iface_regex: values.flannel.regexIface,
      masquerade: String(values.calico.masquerade),
      veth_mtu: "1450",
      "net-conf.json": netConfJson(s),
    },
    helmMetadata(name, namespace),
  );
  const helmChart = {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChart",
    metadata: {
      name,
      namespace,
      annotations: { "helm.cattle.io/chart-url": `https://rke2-charts.rancher.io/assets/rke2-canal/${name}-v3.32.1-build2026081900.tgz` },
    },
    spec: { bootstrap: true, chart: name, targetNamespace: namespace, set: { "global.clusterCIDRv4": s.flannel.network } },
  };
  return { daemonSet: ds, configMaps: [cm], others: [helmChart] };
}

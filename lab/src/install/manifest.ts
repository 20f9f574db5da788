// The upstream kube-flannel.yml (flannel-io/flannel Documentation/kube-flannel.yml):
// DaemonSet kube-flannel-ds (older eras: kube-flannel-ds-amd64 in kube-system),
// labels app/k8s-app/tier, flags in `args` (or, for some old manifests, in
// `command` after the binary), install-cni-plugin and install-cni as init containers.
import type { Scenario } from "../scenario.js";
import { FLANNEL_CONTAINER, kubeFlannelCfg, podFieldEnv, scenarioDaemonSet, scenarioEnv, type InstallObjects } from "./objects.js";

export const MANIFEST_LABELS = { app: "flannel", "k8s-app": "flannel", tier: "node" };

const IMAGE = "docker.io/flannel/flannel:v0.25.1";

export const flannelVolumeMounts = [
  { name: "run", mountPath: "/run/flannel" },
  { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
  { name: "xtables-lock", mountPath: "/run/xtables.lock" },
];

export function flannelVolumes(configMap: string): object[] {
  return [
    { name: "run", hostPath: { path: "/run/flannel" } },
    { name: "cni-plugin", hostPath: { path: "/opt/cni/bin" } },
    { name: "cni", hostPath: { path: "/etc/cni/net.d" } },
    { name: "flannel-cfg", configMap: { name: configMap } },
    { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
  ];
}

/** The chart and the manifest copy the CNI plugin and config from init containers. */
export function flannelInitContainers(image: string): object[] {
  return [
    {
      name: "install-cni-plugin",
      image: "docker.io/flannel/flannel-cni-plugin:v1.4.0-flannel1",
      command: ["cp"],
      args: ["-f", "/flannel", "/opt/cni/bin/flannel"],
    },
    { name: "install-cni", image, command: ["cp"], args: ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"] },
  ];
}

export function renderManifest(s: Scenario): InstallObjects {
  const { args } = s.flannel;
  const flags = s.flannel.flagsInCommand ? { command: ["/opt/bin/flanneld", ...args] } : { command: ["/opt/bin/flanneld"], args: [...args] };
  return {
    daemonSet: scenarioDaemonSet(
      s,
      MANIFEST_LABELS,
      { app: "flannel" },
      {
        hostNetwork: true,
        priorityClassName: "system-node-critical",
        serviceAccountName: "flannel",
        tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
        initContainers: flannelInitContainers(IMAGE),
        containers: [
          {
            name: FLANNEL_CONTAINER,
            image: IMAGE,
            ...flags,
            env: [...podFieldEnv(), { name: "EVENT_QUEUE_DEPTH", value: "5000" }, ...scenarioEnv(s)],
            securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
            volumeMounts: flannelVolumeMounts,
          },
        ],
        volumes: flannelVolumes("kube-flannel-cfg"),
      },
    ),
    configMaps: [kubeFlannelCfg(s, { app: "flannel", tier: "node" })],
    others: [],
  };
}

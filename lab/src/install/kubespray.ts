// kubespray's flannel (roles/network_plugin/flannel/templates/cni-flannel.yml.j2,
// as it was until April 2020): DaemonSet kube-flannel in kube-system, labels
// tier=node and k8s-app=flannel (also the selector), flags in `command`, and
// install-cni as a second ordinary container (flannel-cni's /install-cni.sh),
// so the kubelet's name-sorted containerStatuses start with install-cni.
import type { Scenario } from "../scenario.js";
import { FLANNEL_CONTAINER, kubeFlannelCfg, podFieldEnv, scenarioDaemonSet, scenarioEnv, type InstallObjects } from "./objects.js";

const LABELS = { tier: "node", "k8s-app": "flannel" };

export function renderKubespray(s: Scenario): InstallObjects {
  const { args } = s.flannel;
  return {
    daemonSet: scenarioDaemonSet(s, LABELS, LABELS, {
      priorityClassName: "system-node-critical",
      serviceAccountName: "flannel",
      nodeSelector: { "beta.kubernetes.io/os": "linux" },
      hostNetwork: true,
      dnsPolicy: "ClusterFirstWithHostNet",
      tolerations: [{ operator: "Exists" }, { key: "CriticalAddonsOnly", operator: "Exists" }],
      containers: [
        {
          name: FLANNEL_CONTAINER,
          image: "quay.io/coreos/flannel:v0.12.0",
          command: ["/opt/bin/flanneld", ...args],
          securityContext: { privileged: true },
          env: [...podFieldEnv(), { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }, ...scenarioEnv(s)],
          volumeMounts: [
            { name: "run", mountPath: "/run" },
            { name: "cni", mountPath: "/etc/cni/net.d" },
            { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
          ],
        },
        {
          name: "install-cni",
          image: "quay.io/coreos/flannel-cni:v0.3.0",
          command: ["/install-cni.sh"],
          env: [
            { name: "CNI_NETWORK_CONFIG", valueFrom: { configMapKeyRef: { name: "kube-flannel-cfg", key: "cni-conf.json" } } },
            { name: "CNI_CONF_NAME", value: "10-flannel.conflist" },
          ],
          volumeMounts: [
            { name: "cni", mountPath: "/host/etc/cni/net.d" },
            { name: "host-cni-bin", mountPath: "/host/opt/cni/bin/" },
          ],
        },
      ],
      volumes: [
        { name: "run", hostPath: { path: "/run" } },
        { name: "cni", hostPath: { path: "/etc/cni/net.d" } },
        { name: "flannel-cfg", configMap: { name: "kube-flannel-cfg" } },
        { name: "host-cni-bin", hostPath: { path: "/opt/cni/bin" } },
      ],
    }),
    configMaps: [kubeFlannelCfg(s, { tier: "node", app: "flannel" }, { EnableIPv4: true })],
    others: [],
  };
}

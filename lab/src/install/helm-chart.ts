// flannel's own chart (flannel-io/flannel chart/kube-flannel): DaemonSet
// kube-flannel-ds in the release namespace, labels tier/app (selector app),
// every flag in `command` (the chart ranges over .Values.flannel.args and adds
// --healthz-port), init containers, env POD_NAME/POD_NAMESPACE/
// EVENT_QUEUE_DEPTH/CONT_WHEN_CACHE_NOT_READY, a readinessProbe on /readyz.
import type { Scenario } from "../scenario.js";
import { flannelInitContainers, flannelVolumeMounts, flannelVolumes } from "./manifest.js";
import { FLANNEL_CONTAINER, kubeFlannelCfg, podFieldEnv, scenarioDaemonSet, scenarioEnv, type InstallObjects } from "./objects.js";

const IMAGE = "ghcr.io/flannel-io/flannel:v0.28.9";
const HEALTHZ_PORT = 8081;
const CHART_LABELS = { tier: "node", app: "flannel" };

export function renderHelmChart(s: Scenario): InstallObjects {
  const { args } = s.flannel;
  return {
    daemonSet: scenarioDaemonSet(
      s,
      CHART_LABELS,
      { app: "flannel" },
      {
        hostNetwork: true,
        priorityClassName: "system-node-critical",
        serviceAccountName: "flannel",
        tolerations: [
          { effect: "NoExecute", operator: "Exists" },
          { effect: "NoSchedule", operator: "Exists" },
        ],
        initContainers: flannelInitContainers(IMAGE),
        containers: [
          {
            name: FLANNEL_CONTAINER,
            image: IMAGE,
            command: ["/opt/bin/flanneld", ...args, `--healthz-port=${HEALTHZ_PORT}`],
            ports: [{ name: "healthz", containerPort: HEALTHZ_PORT, protocol: "TCP" }],
            livenessProbe: { httpGet: { path: "/healthz", port: "healthz" }, initialDelaySeconds: 10, periodSeconds: 30 },
            readinessProbe: { httpGet: { path: "/readyz", port: "healthz" }, initialDelaySeconds: 5, periodSeconds: 10 },
            securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
            env: [...podFieldEnv(), { name: "EVENT_QUEUE_DEPTH", value: "5000" }, { name: "CONT_WHEN_CACHE_NOT_READY", value: "false" }, ...scenarioEnv(s)],
            volumeMounts: flannelVolumeMounts,
          },
        ],
        volumes: flannelVolumes("kube-flannel-cfg"),
      },
    ),
    configMaps: [kubeFlannelCfg(s, CHART_LABELS)],
    others: [],
  };
}

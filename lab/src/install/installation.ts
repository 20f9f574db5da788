// The flannel installation a scenario asks for: the objects it renders, and
// where flanneld's effective flags come from (a DaemonSet's flannel container,
// or k3s's node-args annotation).
import type { Scenario } from "../scenario.js";
import { effectiveFlannelArgs, type FlannelContainer } from "./flanneld-flags.js";
import { flannelArgsFromK3s, parseK3sNodeArgs } from "./k3s.js";
import { renderHelmChart } from "./helm-chart.js";
import { renderKubespray } from "./kubespray.js";
import { renderManifest } from "./manifest.js";
import { FLANNEL_CONTAINER, type InstallObjects } from "./objects.js";
import { baseCanalValues, renderRke2Canal, type CanalValues } from "./rke2-canal.js";

/** `canalValues`: the rke2-canal chart values to render with (default: the scenario's own). */
export function installationObjects(s: Scenario, canalValues?: CanalValues): InstallObjects {
  switch (s.flannel.distribution) {
    case "manifest":
      return renderManifest(s);
    case "helm":
      return renderHelmChart(s);
    case "kubespray":
      return renderKubespray(s);
    case "rke2-canal":
      return renderRke2Canal(s, canalValues ?? baseCanalValues(s));
    case "k3s":
      return { configMaps: [], others: [] };
  }
}

/** The flannel container of a DaemonSet or pod spec, found by name as the kubelet names it. */
export function flannelContainerOf(podSpec: { containers?: ({ name: string } & FlannelContainer)[] } | undefined): FlannelContainer | undefined {
  return podSpec?.containers?.find((c) => c.name === FLANNEL_CONTAINER);
}

/**
 * flanneld's argv on one node: from the DaemonSet's pod template (command,
 * args, FLANNELD_* env with configMapKeyRef resolved by `configMapKey`), or on
 * k3s from the node's k3s.io/node-args annotation.
 */
export function flannelArgsFor(
  s: Scenario,
  sources: {
    podSpec?: { containers?: ({ name: string } & FlannelContainer)[] };
    k3sNodeArgs?: string;
    configMapKey: (name: string, key: string) => string | undefined;
  },
): string[] {
  if (s.flannel.distribution === "k3s") return flannelArgsFromK3s(parseK3sNodeArgs(sources.k3sNodeArgs));
  const c = flannelContainerOf(sources.podSpec);
  return c ? effectiveFlannelArgs(c, sources.configMapKey) : [];
}

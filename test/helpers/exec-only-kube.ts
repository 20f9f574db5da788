// A KubeClient whose only working call is exec, for tests of code that runs
// commands through agents (probes, host fixes); every API call rejects.
import type { ExecResult } from "../../src/kube/types.js";
import type { ExecTarget, KubeClient } from "../../src/kube/kube-client.js";

export function execOnlyKube(exec: (target: ExecTarget, argv: string[]) => Promise<ExecResult>, cluster = "test"): KubeClient {
  const unused = () => Promise.reject(new Error("only exec is used in this test"));
  return {
    cluster,
    listNodes: unused,
    listPods: unused,
    listDaemonSets: unused,
    getDaemonSet: unused,
    patchDaemonSet: unused,
    patchNode: unused,
    deletePod: unused,
    getCustomObject: unused,
    createCustomObject: unused,
    patchCustomObject: unused,
    getConfigMap: unused,
    listServices: unused,
    ping: unused,
    exec,
  };
}

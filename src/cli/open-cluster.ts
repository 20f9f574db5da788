// The cluster a terminal command works on: a configured cluster (XNODE_CONFIG
// or --config), or any kubeconfig with --kubeconfig (the name is then only a
// label), with the check settings that apply.
import { parseArgs } from "node:util";
import { findCluster, loadConfig, parseFileConfig, type Config } from "../config.js";
import { createKubeClient, type KubeClient } from "../kube/kube-client.js";

export const CLUSTER_OPTIONS = {
  config: { type: "string" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

export interface OpenedCluster {
  kube: KubeClient;
  config: Config;
  checks: NonNullable<Config["file"]["checks"]>;
  /** false for a --kubeconfig label: nothing about it is recorded */
  configured: boolean;
  json: boolean;
  positionals: string[];
}

export function openCluster(args: string[], env: NodeJS.ProcessEnv): OpenedCluster {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: CLUSTER_OPTIONS });
  const name = positionals[0] ?? "";
  const config = loadConfig(values.config ? { ...env, XNODE_CONFIG: values.config } : env);
  const cluster = values.kubeconfig
    ? { name, kubeconfig: values.kubeconfig, context: values.context }
    : { ...findCluster(config.file, name), ...(values.context ? { context: values.context } : {}) };
  const checks = config.file.checks ?? parseFileConfig({}).config!.checks;
  const kube = createKubeClient({
    cluster: cluster.name,
    kubeconfig: cluster.kubeconfig,
    inCluster: "inCluster" in cluster ? cluster.inCluster : undefined,
    context: cluster.context,
    flannel: "flannel" in cluster ? cluster.flannel : undefined,
    maxConcurrentExecs: checks.maxConcurrentExecs,
  });
  return { kube, config, checks, configured: !values.kubeconfig, json: values.json ?? false, positionals };
}

// The one doorway to a cluster's API: the calls xnode makes, nothing more.
// Everything else in xnode talks to the `KubeClient` interface.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, VersionApi } from "@kubernetes/client-node";
import { errorMessage, XnodeError } from "../errors.js";
import { execCommand, type ExecTarget } from "./exec-command.js";
import { translateKubeError, type RequestDescription } from "./kube-errors.js";
import { withReusedTlsContext } from "./reused-tls-context.js";
import { Semaphore } from "./semaphore.js";
import type { FlannelLocation } from "../model/index.js";
import type { CustomObjectRef, ExecResult, JsonPatchOp, KubeConfigMap, KubeCustomObject, KubeDaemonSet, KubeNode, KubePod, KubeService } from "./types.js";

export type { ExecTarget };

export interface KubeClient {
  readonly cluster: string;
  /** XNODE_CONFIG's `flannel:` for this cluster: carried here so every check path (Slack, CLI, digest, re-check after a fix) looks in the same place */
  readonly flannelLocation?: FlannelLocation;
  listNodes(): Promise<KubeNode[]>;
  listPods(namespace: string | undefined, opts?: { labelSelector?: string; fieldSelector?: string }): Promise<KubePod[]>;
  /** `namespace` undefined: every namespace (flannel's Helm chart installs into any). */
  listDaemonSets(namespace: string | undefined, labelSelector?: string): Promise<KubeDaemonSet[]>;
  getDaemonSet(namespace: string, name: string): Promise<KubeDaemonSet | undefined>;
  patchDaemonSet(namespace: string, name: string, ops: JsonPatchOp[], opts?: { dryRun?: boolean }): Promise<KubeDaemonSet>;
  patchNode(name: string, ops: JsonPatchOp[], opts?: { dryRun?: boolean }): Promise<KubeNode>;
  deletePod(namespace: string, name: string): Promise<void>;
  getCustomObject(ref: CustomObjectRef): Promise<KubeCustomObject | undefined>;
  createCustomObject(ref: CustomObjectRef, body: KubeCustomObject, opts?: { dryRun?: boolean }): Promise<KubeCustomObject>;
  patchCustomObject(ref: CustomObjectRef, ops: JsonPatchOp[], opts?: { dryRun?: boolean }): Promise<KubeCustomObject>;
  getConfigMap(namespace: string, name: string): Promise<KubeConfigMap | undefined>;
  listServices(): Promise<KubeService[]>;
  /** GET /version within `timeoutMs`: whether the API server answers at all (cheap at any cluster size). */
  ping(timeoutMs: number): Promise<void>;
  /** `stdin`, when given, is written to the command and then closed (how probes pass many targets without the exec URL). */
  exec(target: ExecTarget, argv: string[], timeoutMs: number, stdin?: string): Promise<ExecResult>;
}

export interface KubeClientOptions {
  cluster: string;
  kubeconfig?: string;
  inCluster?: boolean;
  context?: string;
  /** an API request that takes longer fails (client-node sets no timeout of its own) */
  requestTimeoutMs?: number;
  /** execs in flight at once: a big cluster's check must not open hundreds of streams on the API server */
  maxConcurrentExecs?: number;
  flannel?: FlannelLocation;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
// the config's default (checks.maxConcurrentExecs): kube-apiserver exempts exec streams from its in-flight limits
const DEFAULT_MAX_CONCURRENT_EXECS = 128;

export function loadKubeConfig(opts: KubeClientOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.inCluster) {
    if (!process.env.KUBERNETES_SERVICE_HOST) {
      throw new XnodeError(
        "KUBECONFIG_INVALID",
        `cluster ${opts.cluster} is configured inCluster, but this process does not run in a Kubernetes pod`,
        "Give the cluster a kubeconfig instead, or run the worker in that cluster.",
      );
    }
    kc.loadFromCluster();
    return kc;
  }
  if (!opts.kubeconfig)
    throw new XnodeError("KUBECONFIG_INVALID", `cluster ${opts.cluster} has no kubeconfig`, "Set kubeconfig (or inCluster: true) for it in XNODE_CONFIG.");
  try {
    kc.loadFromFile(opts.kubeconfig);
  } catch (err) {
    throw new XnodeError(
      "KUBECONFIG_INVALID",
      `cannot load kubeconfig ${opts.kubeconfig} for cluster ${opts.cluster}: ${errorMessage(err)}`,
      "Check the file path and that it is a valid kubeconfig.",
      { cause: err },
    );
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(", ") || "none";
      throw new XnodeError("KUBECONFIG_INVALID", `kubeconfig ${opts.kubeconfig} has no context "${opts.context}"`, `Contexts in that file: ${known}.`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new XnodeError("KUBECONFIG_INVALID", `kubeconfig ${opts.kubeconfig} has no current cluster`, "Set current-context or pass --context.");
  }
  return kc;
}

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  const kc = loadKubeConfig(opts);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const version = kc.makeApiClient(VersionApi);
  const cluster = opts.cluster;

  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const execSlots = new Semaphore(opts.maxConcurrentExecs ?? DEFAULT_MAX_CONCURRENT_EXECS);
  const execConfig = withReusedTlsContext(kc);
  async function call<T>(d: Omit<RequestDescription, "cluster">, fn: () => Promise<T>, limitMs = timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new XnodeError(
              "KUBE_UNREACHABLE",
              `the API server of cluster ${cluster} did not answer ${d.verb} ${d.resource} within ${Math.round(limitMs / 1000)} s`,
              "Check the API server's health (kubectl get --raw /readyz) and the network path to it.",
            ),
          ),
        limitMs,
      );
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      throw err instanceof XnodeError ? err : translateKubeError(err, { ...d, cluster });
    } finally {
      clearTimeout(timer);
    }
  }
  async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof XnodeError && err.code === "KUBE_NOT_FOUND") return undefined;
      throw err;
    }
  }

  return {
    cluster,
    ...(opts.flannel ? { flannelLocation: opts.flannel } : {}),
    listNodes: () => call({ verb: "list", resource: "nodes" }, async () => (await core.listNode()).items as KubeNode[]),
    listPods: (namespace, o = {}) =>
      call(
        { verb: "list", resource: "pods", namespace },
        async () =>
          (namespace
            ? await core.listNamespacedPod({ namespace, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector })
            : await core.listPodForAllNamespaces({ labelSelector: o.labelSelector, fieldSelector: o.fieldSelector })
          ).items as KubePod[],
      ),
    listDaemonSets: (namespace, labelSelector) =>
      call(
        { verb: "list", resource: "daemonsets", namespace },
        async () =>
          (namespace ? await apps.listNamespacedDaemonSet({ namespace, labelSelector }) : await apps.listDaemonSetForAllNamespaces({ labelSelector }))
            .items as KubeDaemonSet[],
      ),
    getDaemonSet: (namespace, name) =>
      orUndefined(
        call({ verb: "get", resource: "daemonsets", namespace, name }, async () => (await apps.readNamespacedDaemonSet({ name, namespace })) as KubeDaemonSet),
      ),
    patchDaemonSet: (namespace, name, ops, o = {}) =>
      call(
        { verb: "patch", resource: "daemonsets", namespace, name },
        async () =>
          (await apps.patchNamespacedDaemonSet(
            { name, namespace, body: ops, dryRun: o.dryRun ? "All" : undefined, fieldManager: "xnode" },
            setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
          )) as KubeDaemonSet,
      ),
    patchNode: (name, ops, o = {}) =>
      call(
        { verb: "patch", resource: "nodes", name },
        async () =>
          (await core.patchNode(
            { name, body: ops, dryRun: o.dryRun ? "All" : undefined, fieldManager: "xnode" },
            setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
          )) as KubeNode,
      ),
    deletePod: (namespace, name) =>
      call({ verb: "delete", resource: "pods", namespace, name }, async () => {
        await core.deleteNamespacedPod({ name, namespace });
      }),
    getCustomObject: (ref) =>
      orUndefined(
        call(
          { verb: "get", resource: ref.plural, namespace: ref.namespace, name: ref.name },
          async () => (await custom.getNamespacedCustomObject(ref)) as KubeCustomObject,
        ),
      ),
    createCustomObject: (ref, body, o = {}) =>
      call(
        { verb: "create", resource: ref.plural, namespace: ref.namespace, name: ref.name },
        async () =>
          (await custom.createNamespacedCustomObject({
            group: ref.group,
            version: ref.version,
            namespace: ref.namespace,
            plural: ref.plural,
            body,
            dryRun: o.dryRun ? "All" : undefined,
            fieldManager: "xnode",
          })) as KubeCustomObject,
      ),
    patchCustomObject: (ref, ops, o = {}) =>
      call(
        { verb: "patch", resource: ref.plural, namespace: ref.namespace, name: ref.name },
        async () =>
          (await custom.patchNamespacedCustomObject(
            { ...ref, body: ops, dryRun: o.dryRun ? "All" : undefined, fieldManager: "xnode" },
            setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
          )) as KubeCustomObject,
      ),
    getConfigMap: (namespace, name) =>
      orUndefined(
        call({ verb: "get", resource: "configmaps", namespace, name }, async () => (await core.readNamespacedConfigMap({ name, namespace })) as KubeConfigMap),
      ),
    ping: (limitMs) =>
      call(
        { verb: "get", resource: "version" },
        async () => {
          await version.getCode();
        },
        limitMs,
      ),
    listServices: () => call({ verb: "list", resource: "services" }, async () => (await core.listServiceForAllNamespaces()).items as KubeService[]),
    exec: (target, argv, timeoutMs, stdin) => execSlots.run(() => execCommand(execConfig, target, argv, timeoutMs, stdin)),
  };
}

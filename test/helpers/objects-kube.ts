// A read-only KubeClient over objects parsed from fixture files, for tests of
// discovery: GET/LIST answer from the objects as the API server stores them,
// 404 gives undefined like the real client, and requests a test refuses fail
// with the real client's 403 translation (KUBE_FORBIDDEN). Every request is
// recorded in RBAC words.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { translateKubeError } from "../../src/kube/kube-errors.js";
import type { KubeClient } from "../../src/kube/kube-client.js";
import type { KubeConfigMap, KubeCustomObject, KubeDaemonSet, KubeNode, KubePod } from "../../src/kube/types.js";
import type { FlannelLocation } from "../../src/model/index.js";

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; generation?: number };
} & Record<string, unknown>;

export function readFixtureObjects(path: string): Obj[] {
  const url = new URL(`../fixtures/installations/${path}`, import.meta.url);
  return parseAllDocuments(readFileSync(url, "utf8")).flatMap((d) => {
    const v = d.toJS() as Obj | null;
    return v ? [v] : [];
  });
}

/**
 * The defaults the API server fills in when it stores a DaemonSet: an
 * extensions/v1beta1 one gets updateStrategy OnDelete and a selector from its
 * template's labels (kept when read through apps/v1); an apps/v1 one without
 * updateStrategy gets RollingUpdate.
 */
export function asStored(o: Obj): Obj {
  if (o.kind !== "DaemonSet") return o;
  const spec = structuredClone(o.spec) as NonNullable<KubeDaemonSet["spec"]>;
  const legacy = o.apiVersion === "extensions/v1beta1";
  spec.updateStrategy ??= { type: legacy ? "OnDelete" : "RollingUpdate" };
  if (legacy) spec.selector ??= { matchLabels: { ...(spec.template?.metadata?.labels ?? {}) } };
  return { ...o, apiVersion: "apps/v1", spec, metadata: { resourceVersion: "1000", generation: 1, ...o.metadata } };
}

export interface ObjectsKube extends KubeClient {
  requests: string[];
}

const selectorMatches = (selector: string | undefined, labels: Record<string, string> | undefined) =>
  !selector ||
  selector.split(",").every((term) => {
    const [k, v] = term.split("=");
    return labels?.[k!] === v;
  });

export function objectsKube(objects: Obj[], opts: { refuse?: (request: string) => boolean; flannel?: FlannelLocation } = {}): ObjectsKube {
  const stored = objects.map(asStored);
  const requests: string[] = [];
  const guard = (verb: string, resource: string, namespace?: string, name?: string) => {
    const request = `${verb} ${resource}${name ? ` ${name}` : ""}${namespace ? ` in ${namespace}` : " cluster-wide"}`;
    requests.push(request);
    if (opts.refuse?.(request))
      throw translateKubeError({ code: 403, body: { message: "forbidden by the test" } }, { verb, resource, namespace, name, cluster: "fixture" });
  };
  const of = <T>(kind: string, namespace?: string) =>
    stored.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)) as unknown as T[];
  const named = <T>(kind: string, namespace: string, name: string) =>
    of<T & { metadata: { name: string } }>(kind, namespace).find((o) => o.metadata.name === name);
  const unused = () => Promise.reject(new Error("not used by discovery"));
  return {
    cluster: "fixture",
    ...(opts.flannel ? { flannelLocation: opts.flannel } : {}),
    requests,
    listNodes: async () => (guard("list", "nodes"), of<KubeNode>("Node")),
    listPods: async (namespace) => (guard("list", "pods", namespace), of<KubePod>("Pod", namespace)),
    listDaemonSets: async (namespace, selector) => (
      guard("list", "daemonsets", namespace),
      of<KubeDaemonSet>("DaemonSet", namespace).filter((d) => selectorMatches(selector, d.metadata.labels))
    ),
    getDaemonSet: async (namespace, name) => (guard("get", "daemonsets", namespace, name), named<KubeDaemonSet>("DaemonSet", namespace, name)),
    getConfigMap: async (namespace, name) => (guard("get", "configmaps", namespace, name), named<KubeConfigMap>("ConfigMap", namespace, name)),
    getCustomObject: async (ref) => (guard("get", ref.plural, ref.namespace, ref.name), named<KubeCustomObject>("HelmChartConfig", ref.namespace, ref.name)),
    listServices: async () => (guard("list", "services"), []),
    ping: unused,
    patchDaemonSet: unused,
    patchNode: unused,
    deletePod: unused,
    createCustomObject: unused,
    patchCustomObject: unused,
    exec: unused,
  };
}

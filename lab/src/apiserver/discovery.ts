// Legacy (unaggregated) discovery documents. kubectl asks for aggregated
// discovery first; answering plain application/json makes it fall back to
// /api/v1 and /apis/apps/v1, which is all it needs to map "ds" to daemonsets.
// Every document lists the kinds this server serves (custom resources only
// when the cluster has their CRD).
import type { KindInfo } from "./kinds.js";

/** kubectl's version dispatcher (google-cloud-sdk) picks its binary from this. */
export const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2025-04-22T00:00:00Z",
  goVersion: "go1.23.8",
  compiler: "gc",
  platform: "linux/amd64",
};

/** Kinds that `kubectl get all` includes. */
const IN_CATEGORY_ALL = new Set(["Pod", "Service", "DaemonSet"]);

function resourceEntry(info: KindInfo) {
  return {
    name: info.resource,
    singularName: info.singular,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: info.verbs,
    shortNames: info.shortNames,
    ...(IN_CATEGORY_ALL.has(info.kind) ? { categories: ["all"] } : {}),
  };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** The API groups of the served kinds, in the order they first appear (apps before helm.cattle.io). */
function groupsOf(kinds: readonly KindInfo[]) {
  const names = [...new Set(kinds.filter((k) => k.group).map((k) => k.group))];
  return names.map((name) => {
    const versions = [...new Set(kinds.filter((k) => k.group === name).map((k) => k.version))].map((version) => ({
      groupVersion: `${name}/${version}`,
      version,
    }));
    return { name, versions, preferredVersion: versions[0]! };
  });
}

export function apiGroupList(kinds: readonly KindInfo[]) {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groupsOf(kinds) };
}

export function apiGroup(kinds: readonly KindInfo[], group: string) {
  const found = groupsOf(kinds).find((g) => g.name === group);
  return found ? { kind: "APIGroup", apiVersion: "v1", ...found } : undefined;
}

/** The APIResourceList for "v1", "apps/v1", ...; undefined for a group version with no served kind. */
export function apiResourceList(kinds: readonly KindInfo[], groupVersion: string) {
  const inVersion = kinds.filter((k) => (k.group ? `${k.group}/${k.version}` : k.version) === groupVersion);
  if (inVersion.length === 0) return undefined;
  const resources: object[] = inVersion.map(resourceEntry);
  if (groupVersion === "v1") {
    resources.push({ name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] });
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}

/** Path of one object of a kind, as in the real OpenAPI documents. */
function objectPath(info: KindInfo): string {
  const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  return info.namespaced ? `${prefix}/namespaces/{namespace}/${info.resource}/{name}` : `${prefix}/${info.resource}/{name}`;
}

function gvPath(info: KindInfo): string {
  return info.group ? `apis/${info.group}/${info.version}` : `api/${info.version}`;
}

/**
 * /openapi/v3: just enough for kubectl create/replace/apply to see that the
 * server validates fields itself (a PATCH operation per kind with the
 * fieldValidation parameter), so it skips client-side schema validation.
 * Without it those commands fail with "failed to download openapi".
 */
export function openApiV3Root(kinds: readonly KindInfo[]) {
  const paths = Object.fromEntries([...new Set(kinds.map(gvPath))].map((p) => [p, { serverRelativeURL: `/openapi/v3/${p}` }]));
  return { paths };
}

export function openApiV3GroupVersion(served: readonly KindInfo[], path: string) {
  const kinds = served.filter((k) => gvPath(k) === path);
  if (kinds.length === 0) return undefined;
  const paths = Object.fromEntries(
    kinds.map((k) => [
      objectPath(k),
      {
        patch: {
          operationId: `patch${k.kind}`,
          parameters: [{ name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } }],
          responses: { "200": { description: "OK" } },
          "x-kubernetes-action": "patch",
          "x-kubernetes-group-version-kind": { group: k.group, version: k.version, kind: k.kind },
        },
      },
    ]),
  );
  return { openapi: "3.0.0", info: { title: "Kubernetes (xnode lab)", version: SERVER_VERSION.gitVersion }, paths };
}

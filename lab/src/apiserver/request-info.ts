// URL + method → the attributes the real apiserver derives for every request
// (k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory), used for
// routing, authorization and the request log alike.

export interface RequestInfo {
  /** False for discovery, /version and other non-resource URLs. */
  isResourceRequest: boolean;
  /** Kubernetes verb (get/list/watch/create/update/patch/delete) or the lowercase method for non-resource URLs. */
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Subresources that the real apiserver authorizes as "create" even when opened with GET (WebSocket). */
const CONNECT_SUBRESOURCES = new Set(["exec", "attach", "portforward"]);

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const nonResource: RequestInfo = { isResourceRequest: false, verb: method.toLowerCase(), apiGroup: "", apiVersion: "" };
  let apiGroup: string;
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    [apiGroup, apiVersion, rest] = ["", parts[1]!, parts.slice(2)];
  } else if (parts[0] === "apis" && parts.length >= 4) {
    [apiGroup, apiVersion, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  } else {
    return nonResource;
  }

  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  } else if (rest[0] === "namespaces" && rest.length === 2) {
    // /api/v1/namespaces/{name}: the Namespace object itself, "in" its own namespace.
    namespace = rest[1];
  }
  const [resource, name, subresource] = rest;

  let verb: string;
  switch (method) {
    case "GET":
    case "HEAD":
      verb = name ? "get" : url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1" ? "watch" : "list";
      break;
    case "POST":
      verb = "create";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = name ? "delete" : "deletecollection";
      break;
    default:
      verb = method.toLowerCase();
  }
  if (subresource && CONNECT_SUBRESOURCES.has(subresource)) verb = "create";
  return { isResourceRequest: true, verb, apiGroup, apiVersion, resource, subresource, namespace, name };
}

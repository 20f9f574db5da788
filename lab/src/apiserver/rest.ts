// The REST verbs on resources: get, list, watch, create, update (PUT), patch
// and delete, with the real apiserver's URL/body consistency checks, dryRun
// and Table output for kubectl.
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { ApiError, badRequest, notFound } from "./errors.js";
import { apiVersionOf, type KindInfo } from "./kinds.js";
import { applyPatch, patchTypeOf } from "./patch.js";
import type { RequestInfo } from "./request-info.js";
import { parseSelectors } from "./selectors.js";
import type { K8sObject, ObjectStore, WriteOptions } from "./store.js";
import { toTable, type IncludeObject } from "./tables.js";
import { serveWatch } from "./watch.js";

export interface RestRequest {
  store: ObjectStore;
  info: RequestInfo;
  kind: KindInfo;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the handler answers; `undefined` when it wrote a streaming response itself (watch). */
export type RestResult = { status: number; body: unknown } | undefined;

/** True when kubectl asks for server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? "").split(",").some((mediaType) => {
    const params = new Map(
      mediaType
        .split(";")
        .slice(1)
        .map((p) => p.trim().split("=") as [string, string]),
    );
    return params.get("as") === "Table" && params.get("g") === "meta.k8s.io" && params.get("v") === "v1";
  });
}

function includeObject(url: URL): IncludeObject {
  const v = url.searchParams.get("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

function writeOptions(url: URL, keepStatus: boolean): WriteOptions {
  const dryRun = url.searchParams.getAll("dryRun");
  const bad = dryRun.find((v) => v !== "All");
  if (bad !== undefined) throw badRequest(`Invalid dry run value: ${bad}; valid values are: All`);
  return { dryRun: dryRun.length > 0, keepStatus };
}

function parseBody(req: RestRequest): K8sObject {
  // kubectl's typed generators (create configmap ...) send protobuf; only JSON is understood here.
  const mediaType = (req.headers["content-type"] ?? "application/json").split(";")[0]!.trim();
  if (mediaType !== "application/json") {
    throw new ApiError(415, "UnsupportedMediaType", `the lab API server only accepts application/json bodies, not ${mediaType}`);
  }
  try {
    const body = req.body;
    const obj = JSON.parse(body) as K8sObject;
    if (obj === null || typeof obj !== "object" || typeof obj.metadata !== "object") throw new Error("metadata is missing");
    return obj;
  } catch (err) {
    throw new ApiError(400, "BadRequest", `error decoding request body: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Fills the namespace from the URL and rejects a body that names another object than the URL. */
function checkBody(req: RestRequest, obj: K8sObject): K8sObject {
  const { info, kind } = req;
  if (obj.kind !== undefined && obj.kind !== kind.kind) throw badRequest(`the kind of the body (${obj.kind}) does not match ${kind.kind}`);
  obj.kind = kind.kind;
  obj.apiVersion = apiVersionOf(kind);
  if (kind.namespaced) {
    if (obj.metadata.namespace && obj.metadata.namespace !== info.namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    obj.metadata.namespace = info.namespace;
  } else {
    delete obj.metadata.namespace;
  }
  if (info.name && obj.metadata.name !== info.name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${info.name})`);
  }
  return obj;
}

function render(req: RestRequest, objects: K8sObject[], resourceVersion?: string): unknown {
  return toTable(req.kind.kind, objects, resourceVersion, includeObject(req.url));
}

export function handleRest(req: RestRequest, res: ServerResponse): RestResult {
  const { store, info, kind, url } = req;
  const table = wantsTable(req.headers.accept);
  // A cluster-scoped resource under /namespaces/{ns}/, or a namespaced one fetched by name without a namespace, does not exist.
  const namespaceFromUrl = kind.kind === "Namespace" ? undefined : info.namespace;
  if ((!kind.namespaced && namespaceFromUrl) || (kind.namespaced && info.name && !info.namespace)) {
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  const namespace = kind.namespaced ? info.namespace : undefined;

  switch (info.verb) {
    case "get": {
      const obj = store.peek(kind.kind, namespace, info.name!);
      if (!obj) throw notFound(kind.group, kind.resource, info.name!);
      return { status: 200, body: table ? render(req, [obj]) : obj };
    }
    case "list": {
      const matches = parseSelectors(kind.kind, url.searchParams.get("labelSelector"), url.searchParams.get("fieldSelector"));
      const items = store.peekList(kind.kind, namespace).filter(matches);
      const resourceVersion = store.resourceVersion;
      if (table) return { status: 200, body: render(req, items, resourceVersion) };
      return { status: 200, body: { kind: `${kind.kind}List`, apiVersion: apiVersionOf(kind), metadata: { resourceVersion }, items } };
    }
    case "watch": {
      const matches = parseSelectors(kind.kind, url.searchParams.get("labelSelector"), url.searchParams.get("fieldSelector"));
      const timeout = Number(url.searchParams.get("timeoutSeconds") ?? "");
      serveWatch(store, res, {
        info: kind,
        namespace,
        matches,
        resourceVersion: url.searchParams.get("resourceVersion"),
        timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
        render: (obj) => (table ? render(req, [obj]) : obj),
      });
      return undefined;
    }
    case "create": {
      const obj = checkBody(req, parseBody(req));
      return { status: 201, body: store.create(obj, writeOptions(url, false)) };
    }
    case "update": {
      const obj = checkBody(req, parseBody(req));
      return { status: 200, body: store.replace(obj, writeOptions(url, true)) };
    }
    case "patch": {
      const type = patchTypeOf(req.headers["content-type"]);
      const result = store.update(kind.kind, namespace, info.name!, (current) => applyPatch(type, current, req.body), writeOptions(url, true));
      return { status: 200, body: result };
    }
    case "delete":
      return { status: 200, body: store.delete(kind.kind, namespace, info.name!, writeOptions(url, false)) };
    default:
      throw new ApiError(405, "MethodNotAllowed", `${info.verb} is not supported on ${kind.resource}`);
  }
}

// The three PATCH body types kubectl and client-node send: JSON patch
// (RFC 6902), JSON merge patch (RFC 7386) and an approximation of strategic
// merge patch that merges the well-known keyed lists (containers by name,
// volumeMounts by mountPath, ...) and replaces every other list.
import * as jsonpatch from "fast-json-patch";
import { ApiError, badRequest, invalid } from "./errors.js";

export const PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// fast-json-patch is CommonJS; under Node's ESM loader its functions live on the default export.
const { applyPatch: applyJsonPatchOps, JsonPatchError } = jsonpatch.default;

export function patchTypeOf(contentType: string | undefined): PatchType {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const found = PATCH_TYPES.find((t) => t === mediaType);
  if (!found) {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
    );
  }
  return found;
}

/** Returns the patched copy of `target`; `target` itself is not modified. */
export function applyPatch<T extends object>(type: PatchType, target: T, body: string): T {
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (err) {
    throw new ApiError(400, "BadRequest", `error decoding patch: ${(err as Error).message}`, undefined, { cause: err });
  }
  const doc = structuredClone(target) as unknown as JsonObject;
  switch (type) {
    case "application/json-patch+json":
      return applyJsonPatch(doc, patch) as unknown as T;
    case "application/merge-patch+json":
      if (!isObject(patch)) throw badRequest("merge patch must be a JSON object");
      return mergePatch(doc, patch) as unknown as T;
    case "application/strategic-merge-patch+json":
      if (!isObject(patch)) throw badRequest("strategic merge patch must be a JSON object");
      return strategicMerge(doc, patch) as unknown as T;
  }
}

function applyJsonPatch(doc: JsonObject, patch: unknown): Json {
  if (!Array.isArray(patch)) throw badRequest("json patch must be a JSON array of operations");
  try {
    return applyJsonPatchOps(doc, patch, true, true).newDocument;
  } catch (err) {
    if (err instanceof JsonPatchError) {
      // The real apiserver answers 422 both for a failed "test" and for an
      // operation whose path does not exist.
      const what = err.name === "TEST_OPERATION_FAILED" ? "test operation failed" : err.message.split("\n")[0];
      throw invalid(`the server rejected our request due to an error in our request: ${what} (operation ${err.index ?? "?"})`);
    }
    throw err;
  }
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** patchMergeKey of the keyed lists in the core/apps types the lab serves. */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  imagePullSecrets: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  conditions: "type",
  addresses: "type",
  hostAliases: "ip",
};

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  // Container ports merge by containerPort, Service ports by port.
  if (field === "ports") return items.some((i) => isObject(i) && "containerPort" in i) ? "containerPort" : "port";
  return MERGE_KEYS[field];
}

function strategicMerge(target: Json | undefined, patch: JsonObject): Json {
  const directive = patch["$patch"];
  if (directive === "delete") return null;
  if (directive === "replace") return stripDirectives(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) result[field] = current.filter((v) => !value.includes(v));
      continue;
    }
    // $setElementOrder, $retainKeys and $patch only steer the merge; they never land in the object.
    if (key.startsWith("$")) continue;
    if (value === null) delete result[key];
    else if (isObject(value)) {
      const merged = strategicMerge(result[key], value);
      if (merged === null) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) result[key] = mergeList(key, result[key], value);
    else result[key] = value;
  }
  const retain = patch["$retainKeys"];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(field: string, target: Json | undefined, patch: Json[]): Json[] {
  if (patch.some((item) => isObject(item) && item["$patch"] === "replace")) {
    return patch.filter((item) => !(isObject(item) && item["$patch"] === "replace")).map(stripDirectives);
  }
  const key = mergeKeyFor(field, patch);
  if (!key || !Array.isArray(target) || !patch.every(isObject)) return patch.map(stripDirectives);
  const result: Json[] = [...target];
  for (const item of patch as JsonObject[]) {
    const index = result.findIndex((t) => isObject(t) && t[key] === item[key]);
    if (item["$patch"] === "delete") {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = strategicMerge(result[index], item);
    else result.push(stripDirectives(item));
  }
  return result;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith("$"))
      .map(([k, v]) => [k, stripDirectives(v)]),
  );
}

// Validation against the Kubernetes API schemas, offline:
//   - kubernetes-models: validators compiled from the Kubernetes OpenAPI
//     schemas (types, required fields, enums, formats) for every built-in kind;
//   - @kubernetes/client-node's generated models (same OpenAPI source) for
//     what those validators let through: fields the API does not have. A
//     typo such as `readOnlyRootFileSystem` would otherwise pass, and the API
//     server would drop it silently (or reject it with strict field validation).
import * as k8s from "@kubernetes/client-node";
import type { K8sObject } from "./render.js";

type Validatable = { validate(): void };
type ModelClass = new (data: unknown) => Validatable;
type AttributeMap = Array<{ baseName: string; type: string }>;

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for apiVersion ${apiVersion}`);
  }
  const cls = mod[kind];
  if (typeof cls !== "function") throw new Error(`no schema for ${apiVersion} ${kind}`);
  return cls as ModelClass;
}

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [k, v] of Object.entries(value as object)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>)[type];
  if (typeof model?.getAttributeTypeMap !== "function" || typeof value !== "object" || Array.isArray(value)) return; // string, number, IntOrString…
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(value as object)) {
    const t = fields.get(key);
    if (t === undefined) out.push(`${path}.${key}`);
    else unknownFields(v, t, `${path}.${key}`, out);
  }
}

/** Problems with one object, as readable lines; empty when it is valid. */
export async function schemaProblems(obj: K8sObject): Promise<string[]> {
  const where = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata?.name}`;
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") return [`${where}: no apiVersion/kind`];
  const problems: string[] = [];
  try {
    const Model = await modelClass(obj.apiVersion, obj.kind);
    new Model(obj).validate();
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
  }
  const version = obj.apiVersion.split("/").pop()!;
  const clientModel = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (!(clientModel in k8s)) problems.push(`${where}: no client-node model ${clientModel} to check field names`);
  const unknown: string[] = [];
  unknownFields(obj, clientModel, "", unknown);
  problems.push(...unknown.map((f) => `${where}: unknown field ${f.slice(1)}`));
  return problems;
}

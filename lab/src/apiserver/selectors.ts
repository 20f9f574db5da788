// labelSelector / fieldSelector query parameters, parsed the way the real
// apiserver does: a malformed selector or an unsupported field is a 400, so a
// typo in a client's selector fails loudly instead of matching nothing.
import { badRequest } from "./errors.js";
import type { K8sObject } from "./store.js";

export type Requirement =
  { key: string; op: "exists" | "!exists" } | { key: string; op: "=" | "!="; value: string } | { key: string; op: "in" | "notin"; values: string[] };

export type Predicate = (obj: K8sObject) => boolean;

const KEY = /^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?)?$/;

/** Splits on commas that are not inside a `(...)` value set. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms.map((t) => t.trim());
}

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${selector}"`);
  return value;
}

export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.trim() === "") return [];
  return splitTerms(selector).map((term): Requirement => {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (set) {
      const values = set[3]!.split(",").map((v) => checkValue(v.trim(), selector));
      return { key: checkKey(set[1]!, selector), op: set[2] as "in" | "notin", values };
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (cmp) {
      const op = cmp[2] === "!=" ? "!=" : "=";
      return { key: checkKey(cmp[1]!, selector), op, value: checkValue(cmp[3]!.trim(), selector) };
    }
    if (term.startsWith("!")) return { key: checkKey(term.slice(1).trim(), selector), op: "!exists" };
    return { key: checkKey(term, selector), op: "exists" };
  });
}

export function matchesLabels(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  return requirements.every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case "exists":
        return has(r.key);
      case "!exists":
        return !has(r.key);
      case "=":
        return has(r.key) && value === r.value;
      // Like Kubernetes, != and notin also match objects without the label.
      case "!=":
        return !has(r.key) || value !== r.value;
      case "in":
        return has(r.key) && r.values.includes(value!);
      case "notin":
        return !has(r.key) || !r.values.includes(value!);
    }
  });
}

/** Field selectors each kind supports (a subset of the real lists). */
const FIELDS: Record<string, string[]> = {
  Pod: ["spec.nodeName", "status.phase", "status.podIP", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork"],
  Node: ["spec.unschedulable"],
  Namespace: ["status.phase"],
  Service: [],
  ConfigMap: [],
  DaemonSet: [],
};

function fieldValue(obj: K8sObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[part] : undefined;
  }
  // Unset booleans read as "false", like the real field label conversion.
  if (cur === undefined && (path === "spec.hostNetwork" || path === "spec.unschedulable")) return "false";
  return cur === undefined || cur === null ? "" : String(cur);
}

export function parseFieldSelector(kind: string, selector: string): Predicate {
  if (selector.trim() === "") return () => true;
  const supported = ["metadata.name", "metadata.namespace", ...(FIELDS[kind] ?? [])];
  const terms = selector.split(",").map((term) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!;
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, negate: m[2] === "!=", value: m[3]! };
  });
  return (obj) => terms.every((t) => (fieldValue(obj, t.field) === t.value) !== t.negate);
}

export function parseSelectors(kind: string, labelSelector: string | null, fieldSelector: string | null): Predicate {
  const labels = parseLabelSelector(labelSelector ?? "");
  const fields = parseFieldSelector(kind, fieldSelector ?? "");
  return (obj) => matchesLabels(labels, obj.metadata.labels) && fields(obj);
}

// RBAC-like authorization for permission tests: a list of rules shaped like
// RBAC PolicyRules (plus an optional namespace list standing in for
// RoleBindings). No rules = everything allowed; the 403 text copies the real
// apiserver's so error handling can be tested against it.
import { z } from "zod";
import { ApiError, type StatusDetails } from "./errors.js";
import { qualifiedResource } from "./kinds.js";
import type { RequestInfo } from "./request-info.js";

const ruleSchema = z
  .object({
    verbs: z.array(z.string()).min(1),
    apiGroups: z.array(z.string()).min(1),
    resources: z.array(z.string()).min(1),
    resourceNames: z.array(z.string()).optional(),
    namespaces: z.array(z.string()).optional(),
  })
  .strict();

export const authzBodySchema = z.object({ rules: z.array(ruleSchema).nullable() }).strict();
export type AuthzRule = z.infer<typeof ruleSchema>;

function matchesResource(patterns: string[], resource: string, subresource: string | undefined): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  return patterns.some((p) => p === "*" || p === full || (subresource !== undefined && (p === `${resource}/*` || p === `*/${subresource}`)));
}

function grants(rule: AuthzRule, info: RequestInfo): boolean {
  const has = (list: string[], value: string) => list.includes("*") || list.includes(value);
  if (!has(rule.verbs, info.verb) || !has(rule.apiGroups, info.apiGroup)) return false;
  if (!matchesResource(rule.resources, info.resource!, info.subresource)) return false;
  // As in RBAC, resourceNames cannot grant requests without a name (list, create).
  if (rule.resourceNames?.length && !(info.name && rule.resourceNames.includes(info.name))) return false;
  if (rule.namespaces && !(info.namespace && has(rule.namespaces, info.namespace))) return false;
  return true;
}

export function forbidden(info: RequestInfo, user: string): ApiError {
  const resource = info.resource!;
  const full = info.subresource ? `${resource}/${info.subresource}` : resource;
  const subject = qualifiedResource(info.apiGroup, resource) + (info.name ? ` "${info.name}"` : "");
  const scope = info.namespace ? `in the namespace "${info.namespace}"` : "at the cluster scope";
  const details: StatusDetails = { ...(info.name ? { name: info.name } : {}), group: info.apiGroup, kind: resource };
  return new ApiError(
    403,
    "Forbidden",
    `${subject} is forbidden: User "${user}" cannot ${info.verb} resource "${full}" in API group "${info.apiGroup}" ${scope}`,
    details,
  );
}

export class Authorizer {
  private rules: AuthzRule[] | null = null;

  setRules(rules: AuthzRule[] | null): void {
    this.rules = rules;
  }

  /** Throws the 403 the real apiserver would send; non-resource URLs are always allowed. */
  check(info: RequestInfo, user: string): void {
    if (this.rules === null || !info.resource) return;
    if (!this.rules.some((rule) => grants(rule, info))) throw forbidden(info, user);
  }
}

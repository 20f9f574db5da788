// The RBAC that deploy/ grants xnode's ServiceAccount, flattened into the
// rules the lab's emulated API enforces (POST /_lab/authz): a later test runs
// xnode against the lab with exactly these permissions.
import type { AuthzRule } from "@xnode/lab";
import { DEFAULT_OVERLAY, render, type K8sObject } from "./render.js";

export type Rule = AuthzRule;

export const XNODE_SUBJECT = { kind: "ServiceAccount", name: "xnode", namespace: "xnode-system" } as const;

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
export interface RoleObject extends K8sObject {
  rules?: PolicyRule[];
  aggregationRule?: unknown;
}
export interface BindingObject extends K8sObject {
  roleRef: { apiGroup: string; kind: "Role" | "ClusterRole"; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string; apiGroup?: string }>;
}

const isSubject = (b: BindingObject, subject: typeof XNODE_SUBJECT) =>
  (b.subjects ?? []).some((s) => s.kind === subject.kind && s.name === subject.name && s.namespace === subject.namespace);

function toRule(r: PolicyRule, namespace: string | undefined): Rule {
  return {
    verbs: [...r.verbs],
    apiGroups: [...(r.apiGroups ?? [])],
    resources: [...(r.resources ?? [])],
    ...(r.resourceNames?.length ? { resourceNames: [...r.resourceNames] } : {}),
    ...(namespace ? { namespaces: [namespace] } : {}),
  };
}

/**
 * Rules of every Role/ClusterRole bound to `subject`: a ClusterRoleBinding
 * grants cluster-wide (no `namespaces`), a RoleBinding only in its namespace
 * (also when it refers to a ClusterRole).
 */
export function boundRules(objects: K8sObject[], subject = XNODE_SUBJECT): Rule[] {
  const roleFor = (kind: string, name: string, namespace?: string) => {
    const role = objects.find((o) => o.kind === kind && o.metadata.name === name && (kind === "ClusterRole" || o.metadata.namespace === namespace)) as
      RoleObject | undefined;
    if (!role) throw new Error(`binding refers to ${kind} ${namespace ? `${namespace}/` : ""}${name}, which deploy/ does not define`);
    return role;
  };
  const bindings = objects.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding") as BindingObject[];
  return bindings
    .filter((b) => isSubject(b, subject))
    .flatMap((b) => {
      const namespace = b.kind === "RoleBinding" ? b.metadata.namespace : undefined;
      const role = roleFor(b.roleRef.kind, b.roleRef.name, b.roleRef.kind === "Role" ? namespace : undefined);
      return (role.rules ?? []).map((r) => toRule(r, namespace));
    });
}

/** The rules `kubectl apply -k deploy/overlays/default` grants xnode's worker. */
export async function rbacRulesFromDeploy(dir: string = DEFAULT_OVERLAY): Promise<Rule[]> {
  return boundRules(await render(dir));
}

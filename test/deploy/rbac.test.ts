// RBAC is derived from the code, not from a list: the Kubernetes API calls in
// src/kube/kube-client.ts (the only module that makes any) are parsed from
// the source, and the names and namespaces discovery looks in come from
// src/discovery/flannel-names.ts. For each installation (deploy/'s default,
// and each flannel component added to it) the permissions needed are
// compared both ways with what deploy/ grants xnode's ServiceAccount: every
// call is allowed, and every granted permission is needed by some call.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AGENT_NAMESPACE } from "../../src/check/collect-snapshot.js";
import {
  CONFIGURED_COMPONENT,
  FLANNEL_CONFIGMAP,
  HELM_COMPONENT,
  KUBESPRAY,
  KUBESPRAY_COMPONENT,
  MANIFEST_DS_NAMES,
  MANIFEST_NAMESPACES,
  RKE2_CANAL,
  RKE2_COMPONENT,
} from "../../src/discovery/flannel-names.js";
import { boundRules, rbacRulesFromDeploy, XNODE_SUBJECT, type BindingObject, type RoleObject, type Rule } from "./rbac-rules.js";
import { DEFAULT_OVERLAY, KUSTOMIZATIONS, listFiles, readRepoFile, render, renderVariant } from "./render.js";

/** One permission: a cluster-wide one has no namespace; an unnamed one covers any object (or none, for list/create). */
interface Permission {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}
const show = (p: Permission) =>
  `${p.verb} ${p.group ? `${p.group}/` : ""}${p.resource}${p.name ? ` "${p.name}"` : ""} ${p.namespace ? `in ${p.namespace}` : "cluster-wide"}`;

const KUBE_CLIENT = "src/kube/kube-client.ts";
const EXEC_COMMAND = "src/kube/exec-command.ts";
const K3S_COMPONENT = "deploy/components/flannel-k3s";
const HCC = RKE2_CANAL.helmChartConfig;

const API_GROUPS: Record<string, string> = { CoreV1Api: "", AppsV1Api: "apps" };
const VERBS: Record<string, string> = { list: "list", read: "get", get: "get", patch: "patch", create: "create", replace: "update", delete: "delete" };

function plural(kind: string): string {
  const lower = kind.toLowerCase();
  return lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
}

interface ApiCall {
  method: string; // the client-node method, or "Exec"
  verb: string;
  group: string;
  resource: string;
  scope: "cluster" | "namespaced";
}

/** client-node calls in kube-client.ts, each mapped from its generated name (listNamespacedPod → list pods, namespaced). */
function apiCallsInSource(): ApiCall[] {
  const src = readRepoFile(KUBE_CLIENT);
  const clients = new Map([...src.matchAll(/const (\w+) = kc\.makeApiClient\((\w+)\)/g)].map((m) => [m[1]!, m[2]!]));
  assert.ok(clients.size > 0, `no makeApiClient in ${KUBE_CLIENT}; update this test`);
  const calls: ApiCall[] = [];
  for (const m of src.matchAll(new RegExp(`\\b(${[...clients.keys()].join("|")})\\.(\\w+)\\(`, "g"))) {
    const apiClass = clients.get(m[1]!)!;
    const parts = /^(list|read|get|patch|create|replace|delete)(Namespaced)?([A-Z]\w*?)(ForAllNamespaces)?$/.exec(m[2]!);
    assert.ok(parts, `cannot map ${m[1]}.${m[2]} to an RBAC verb and resource; extend this test`);
    const [, op, namespaced, kind] = parts;
    // The only custom objects xnode touches are RKE2's HelmChartConfigs (the ref comes from flannel-names.ts).
    if (apiClass === "CustomObjectsApi") {
      assert.equal(kind, "CustomObject", `${m[2]} on CustomObjectsApi; extend this test`);
      calls.push({ method: m[2]!, verb: VERBS[op!]!, group: HCC.group, resource: HCC.plural, scope: "namespaced" });
      continue;
    }
    // GET /version is a non-resource URL Kubernetes lets every client read (the default ClusterRole
    // system:public-info-viewer): it needs no grant of ours.
    if (apiClass === "VersionApi") {
      assert.equal(m[2], "getCode", `${m[2]} on VersionApi; extend this test`);
      continue;
    }
    const group = API_GROUPS[apiClass];
    assert.ok(group !== undefined, `${apiClass} is new: add its API group to this test and RBAC for its calls`);
    calls.push({ method: m[2]!, verb: VERBS[op!]!, group, resource: plural(kind!), scope: namespaced ? "namespaced" : "cluster" });
  }
  // Exec goes through exec-command.ts: a WebSocket GET that API servers
  // authorize as `get pods/exec`, and since 1.35 also as `create`.
  if (/\bexecCommand\(\w+,/.test(src)) {
    const exec = readRepoFile(EXEC_COMMAND);
    assert.match(exec, /new Exec\(/, `${EXEC_COMMAND} no longer uses client-node's Exec; update this test`);
    assert.doesNotMatch(exec, /new (Attach|PortForward|Log|Cp)\(/, "a new streaming call: add its RBAC and extend this test");
    for (const verb of ["create", "get"]) calls.push({ method: "Exec", verb, group: "", resource: "pods/exec", scope: "namespaced" });
  }
  return calls;
}

type Scope = { namespaces?: (string | undefined)[]; names?: (string | undefined)[] };
/** Per installation, where each call is made: method → scopes. Every call in kube-client.ts must appear in some installation. */
type Needs = Record<string, Scope[]>;

const common: Needs = {
  listNode: [{}],
  listPodForAllNamespaces: [{}],
  listNamespacedPod: [{ namespaces: [AGENT_NAMESPACE] }],
  listServiceForAllNamespaces: [{}],
  // remove-public-ip-overwrite: any Node
  patchNode: [{}],
  Exec: [{ namespaces: [AGENT_NAMESPACE] }],
};
// kube-flannel.yml of every era, in deploy/cluster/rbac-flannel.yaml
const manifest: Needs = {
  ...common,
  readNamespacedDaemonSet: [{ namespaces: MANIFEST_NAMESPACES, names: MANIFEST_DS_NAMES }],
  patchNamespacedDaemonSet: [{ namespaces: MANIFEST_NAMESPACES, names: MANIFEST_DS_NAMES }],
  readNamespacedConfigMap: [{ namespaces: MANIFEST_NAMESPACES, names: [FLANNEL_CONFIGMAP] }],
  // OnDelete rollouts and single-node restarts delete flannel's pods (random names)
  deleteNamespacedPod: [{ namespaces: MANIFEST_NAMESPACES }],
};
const plus = (base: Needs, extra: Needs): Needs => {
  const out: Needs = { ...base };
  for (const [m, scopes] of Object.entries(extra)) out[m] = [...(out[m] ?? []), ...scopes];
  return out;
};
const kubespray = plus(manifest, {
  readNamespacedDaemonSet: [{ namespaces: [KUBESPRAY.namespace], names: [KUBESPRAY.daemonSet] }],
  patchNamespacedDaemonSet: [{ namespaces: [KUBESPRAY.namespace], names: [KUBESPRAY.daemonSet] }],
});
// RKE2's controller reverts a DaemonSet patch: read only; the fix goes through the HelmChartConfig
const rke2 = plus(manifest, {
  readNamespacedDaemonSet: [{ namespaces: [RKE2_CANAL.namespace], names: [RKE2_CANAL.daemonSet] }],
  readNamespacedConfigMap: [{ namespaces: [RKE2_CANAL.namespace], names: [RKE2_CANAL.configMap] }],
  getNamespacedCustomObject: [{ namespaces: [HCC.namespace], names: [HCC.name] }],
  patchNamespacedCustomObject: [{ namespaces: [HCC.namespace], names: [HCC.name] }],
  createNamespacedCustomObject: [{ namespaces: [HCC.namespace] }],
});
// flannel's chart in any namespace: the LIST by label, then its objects by the chart's names
const helm = plus(manifest, {
  listDaemonSetForAllNamespaces: [{}],
  readNamespacedDaemonSet: [{ names: ["kube-flannel-ds"] }],
  patchNamespacedDaemonSet: [{ names: ["kube-flannel-ds"] }],
  readNamespacedConfigMap: [{ names: [FLANNEL_CONFIGMAP] }],
  deleteNamespacedPod: [{}],
});
// flannel inside k3s: everything comes from the Nodes
const k3s = common;

/** KubeClient calls that exist but that nothing in src/ makes, so no installation grants them. */
const NOT_CALLED: Record<string, string> = {
  listNamespacedDaemonSet: "listDaemonSets(namespace) with a namespace: discovery lists only cluster-wide (flannel's chart, any namespace)",
};

const INSTALLATIONS: { name: string; components: string[]; needs: Needs }[] = [
  { name: "kube-flannel.yml (deploy/'s default)", components: [], needs: manifest },
  { name: "kubespray", components: [KUBESPRAY_COMPONENT], needs: kubespray },
  { name: "RKE2 canal", components: [RKE2_COMPONENT], needs: rke2 },
  { name: "flannel's Helm chart, any namespace", components: [HELM_COMPONENT], needs: helm },
  { name: "k3s", components: [K3S_COMPONENT], needs: k3s },
];

function neededPermissions(needs: Needs): Permission[] {
  const calls = apiCallsInSource();
  const out: Permission[] = [];
  for (const [method, scopes] of Object.entries(needs)) {
    const matching = calls.filter((c) => c.method === method);
    assert.ok(matching.length > 0, `${method} is not called in ${KUBE_CLIENT}; drop it from this test and its grant from deploy/`);
    for (const call of matching)
      for (const scope of scopes)
        for (const namespace of call.scope === "cluster" ? [undefined] : (scope.namespaces ?? [undefined]))
          for (const name of scope.names ?? [undefined]) out.push({ verb: call.verb, group: call.group, resource: call.resource, namespace, name });
  }
  return out;
}

function grantedPermissions(rules: Rule[]): Permission[] {
  return rules.flatMap((r) =>
    r.verbs.flatMap((verb) =>
      r.apiGroups.flatMap((group) =>
        r.resources.flatMap((resource) =>
          (r.namespaces ?? [undefined]).flatMap((namespace) => (r.resourceNames ?? [undefined]).map((name) => ({ verb, group, resource, namespace, name }))),
        ),
      ),
    ),
  );
}

/** RBAC semantics: a cluster-wide grant covers every namespace; resourceNames never cover an unnamed request. */
const allows = (g: Permission, p: Permission) =>
  g.verb === p.verb &&
  g.group === p.group &&
  g.resource === p.resource &&
  (g.namespace === undefined || g.namespace === p.namespace) &&
  (g.name === undefined || g.name === p.name);
const same = (a: Permission, b: Permission) =>
  a.verb === b.verb && a.group === b.group && a.resource === b.resource && a.namespace === b.namespace && a.name === b.name;

async function grantsOf(components: string[]): Promise<Permission[]> {
  return grantedPermissions(boundRules(components.length ? await renderVariant(components) : await render(DEFAULT_OVERLAY)));
}

describe("RBAC derived from the Kubernetes calls in src/, per installation", () => {
  it("finds the calls xnode makes, and every one is needed by some installation", () => {
    const methods = new Set(apiCallsInSource().map((c) => c.method));
    // a floor, not the list: the comparisons below are what matter
    for (const m of ["listNode", "listPodForAllNamespaces", "readNamespacedDaemonSet", "patchNamespacedDaemonSet", "getNamespacedCustomObject", "Exec"])
      assert.ok(methods.has(m), m);
    const needed = new Set([...INSTALLATIONS.flatMap((i) => Object.keys(i.needs)), ...Object.keys(NOT_CALLED)]);
    assert.deepEqual(
      [...methods].filter((m) => !needed.has(m)),
      [],
      "kube-client.ts calls these, and no installation here says where: decide their RBAC (deploy/) and add them",
    );
  });

  for (const inst of INSTALLATIONS) {
    it(`${inst.name}: grants every call xnode makes there`, async () => {
      const granted = await grantsOf(inst.components);
      const missing = neededPermissions(inst.needs).filter((p) => !granted.some((g) => allows(g, p)));
      assert.deepEqual(missing.map(show), [], "calls that deploy/ does not grant");
    });

    it(`${inst.name}: grants nothing that no call there needs`, async () => {
      const needed = neededPermissions(inst.needs);
      const unused = (await grantsOf(inst.components)).filter((g) => !needed.some((p) => same(g, p)));
      assert.deepEqual(unused.map(show), [], "granted permissions no call needs (or broader than the call needs)");
    });
  }

  it(`${CONFIGURED_COMPONENT} grants the example XNODE_CONFIG location it documents, and nothing else of flannel's`, async () => {
    const needed = neededPermissions(
      plus(manifest, {
        readNamespacedDaemonSet: [{ namespaces: ["net"], names: ["overlay"] }],
        patchNamespacedDaemonSet: [{ namespaces: ["net"], names: ["overlay"] }],
        readNamespacedConfigMap: [{ namespaces: ["net"], names: ["overlay-cfg"] }],
        deleteNamespacedPod: [{ namespaces: ["net"] }],
      }),
    );
    const granted = await grantsOf([CONFIGURED_COMPONENT]);
    assert.deepEqual(granted.filter((g) => !needed.some((p) => same(g, p))).map(show), []);
    assert.deepEqual(needed.filter((p) => !granted.some((g) => allows(g, p))).map(show), []);
  });

  it("the default install does not grant the any-namespace LIST: discovery reports it refused instead", async () => {
    const granted = await grantsOf([]);
    assert.ok(!granted.some((g) => g.verb === "list" && g.resource === "daemonsets"));
    assert.match(readRepoFile("src/discovery/find-flannel-daemonset.ts"), /refusals\.read\(`list daemonsets cluster-wide/);
  });

  it("names the flannel objects xnode may read and patch by name only (the any-namespace LIST aside)", async () => {
    for (const inst of INSTALLATIONS) {
      const rules = boundRules(inst.components.length ? await renderVariant(inst.components) : await render(DEFAULT_OVERLAY));
      for (const r of rules.filter((x) => x.resources.includes("daemonsets") || x.resources.includes("configmaps") || x.resources.includes(HCC.plural))) {
        const unnamedOk =
          (r.verbs.length === 1 && r.verbs[0] === "list" && r.resources.includes("daemonsets")) || (r.verbs.length === 1 && r.verbs[0] === "create");
        assert.ok(r.resourceNames?.length || unnamedOk, `${inst.name}: a rule on ${r.resources.join(",")} without resourceNames: ${JSON.stringify(r)}`);
      }
    }
  });

  it("KubeClient methods that take flannel's names are called where those names live", () => {
    const sources = listFiles("src").filter((f) => f.endsWith(".ts") && !f.startsWith("src/kube/"));
    const callers = (re: RegExp) => sources.filter((f) => re.test(readRepoFile(f)));
    // The search by label happens in discovery only…
    for (const f of callers(/\.listDaemonSets\(/))
      assert.ok(f.startsWith("src/discovery/"), `${f} searches for flannel by itself: check its names against RBAC and extend this test`);
    // …and remediation reads, patches or restarts what discovery found (a plan's target, e.g. canal's ConfigMap it waits on).
    for (const f of callers(/\.(getConfigMap|getDaemonSet|patchDaemonSet|deletePod|getCustomObject|createCustomObject|patchCustomObject)\(/))
      assert.ok(
        f.startsWith("src/discovery/") || f.startsWith("src/remediation/"),
        `${f} reads or changes flannel's objects: check its names against RBAC and extend this test`,
      );
  });
});

describe("RBAC objects in deploy/", () => {
  for (const dir of KUSTOMIZATIONS) {
    it(`${dir}: no wildcards, no non-resource URLs, no aggregation`, async () => {
      const roles = (await render(dir)).filter((o) => o.kind === "Role" || o.kind === "ClusterRole") as RoleObject[];
      for (const role of roles) {
        assert.equal(role.aggregationRule, undefined, role.metadata.name);
        for (const rule of role.rules ?? []) {
          const where = `${role.kind} ${role.metadata.namespace ?? ""}/${role.metadata.name}`;
          assert.equal(rule.nonResourceURLs, undefined, where);
          for (const field of [rule.verbs, rule.apiGroups ?? [], rule.resources ?? [], rule.resourceNames ?? []])
            assert.ok(!field.some((v) => v.includes("*")), `${where} has a wildcard: ${JSON.stringify(rule)}`);
        }
      }
    });

    it(`${dir}: every role is bound, only to the xnode ServiceAccount`, async () => {
      const objects = await render(dir);
      const bindings = objects.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") as BindingObject[];
      for (const b of bindings) {
        assert.deepEqual(b.subjects, [XNODE_SUBJECT], `${b.kind} ${b.metadata.name} binds someone else`);
        // a binding to a role deploy/ does not define (cluster-admin, view…) would grant unreviewed rules
        assert.ok(
          objects.some(
            (o) =>
              o.kind === b.roleRef.kind &&
              o.metadata.name === b.roleRef.name &&
              (b.roleRef.kind === "ClusterRole" || o.metadata.namespace === b.metadata.namespace),
          ),
          `${b.kind} ${b.metadata.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, not defined in deploy/`,
        );
      }
      for (const role of objects.filter((o) => o.kind === "Role" || o.kind === "ClusterRole")) {
        const bound = bindings.some(
          (b) =>
            b.roleRef.kind === role.kind &&
            b.roleRef.name === role.metadata.name &&
            (role.kind === "ClusterRole" || b.metadata.namespace === role.metadata.namespace),
        );
        assert.ok(bound, `${role.kind} ${role.metadata.name} is not bound`);
      }
    });
  }
});

describe("rbacRulesFromDeploy", () => {
  it("returns the lab's authz rule shape: cluster rules without namespaces, Role rules with theirs", async () => {
    const rules = await rbacRulesFromDeploy();
    const { authzBodySchema } = await import("@xnode/lab/apiserver");
    assert.doesNotThrow(() => authzBodySchema.parse({ rules }));
    assert.deepEqual(
      rules.find((r) => r.verbs.includes("list") && r.resources.includes("nodes")),
      { verbs: ["list"], apiGroups: [""], resources: ["nodes", "pods", "services"] },
    );
    assert.deepEqual(
      rules.find((r) => r.verbs.includes("patch") && r.resources.includes("nodes")),
      { verbs: ["patch"], apiGroups: [""], resources: ["nodes"] },
    );
    assert.deepEqual(
      rules.find((r) => r.resources.includes("pods/exec")),
      { verbs: ["create", "get"], apiGroups: [""], resources: ["pods/exec"], namespaces: [AGENT_NAMESPACE] },
    );
    const flannel = rules.filter((r) => r.resources.includes("daemonsets")).flatMap((r) => r.namespaces ?? []);
    assert.deepEqual(flannel.sort(), ["kube-flannel", "kube-system"]);
  });

  it("a RoleBinding to a ClusterRole grants only in the binding's namespace", () => {
    const rules = boundRules([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "r" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "b", namespace: "ns1" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "r" },
        subjects: [{ ...XNODE_SUBJECT }],
      },
    ]);
    assert.deepEqual(rules, [{ verbs: ["get"], apiGroups: [""], resources: ["pods"], namespaces: ["ns1"] }]);
  });

  it(`reads ${DEFAULT_OVERLAY} by default, and the other installs grant the same`, async () => {
    const sorted = (rules: Rule[]) => rules.map((r) => JSON.stringify(r)).sort();
    const base = sorted(await rbacRulesFromDeploy());
    for (const dir of KUSTOMIZATIONS) assert.deepEqual(sorted(await rbacRulesFromDeploy(dir)), base, dir);
  });
});

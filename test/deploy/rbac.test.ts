// RBAC is derived from the code, not from a list: the Kubernetes API calls in
// src/kube/kube-client.ts (the only module that makes any) are parsed from
// the source, scoped with the namespaces and names that
// src/check/collect-snapshot.ts uses, and compared both ways with what
// deploy/ grants xnode's ServiceAccount: every call is allowed, and every
// granted permission is needed by some call.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AGENT_NAMESPACE } from "../../src/check/collect-snapshot.js";
import { boundRules, rbacRulesFromDeploy, XNODE_SUBJECT, type BindingObject, type RoleObject, type Rule } from "./rbac-rules.js";
import { DEFAULT_OVERLAY, KUSTOMIZATIONS, listFiles, readRepoFile, render } from "./render.js";

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
const SNAPSHOT = "src/check/collect-snapshot.ts";

function stringArrayConst(source: string, name: string): string[] {
  const m = new RegExp(`const ${name} = \\[([^\\]]*)\\]`).exec(source);
  assert.ok(m, `${SNAPSHOT} no longer defines ${name} as an array literal; update this test`);
  return [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
}

const API_GROUPS: Record<string, string> = { CoreV1Api: "", AppsV1Api: "apps" };
const VERBS: Record<string, string> = { list: "list", read: "get", patch: "patch", create: "create", replace: "update", delete: "delete" };

function plural(kind: string): string {
  const lower = kind.toLowerCase();
  return lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
}

interface ApiCall {
  method: string; // the client-node method, or "Exec"
  verbs: string[];
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
    const group = API_GROUPS[apiClass];
    assert.ok(group !== undefined, `${apiClass} is new: add its API group to this test and RBAC for its calls`);
    const parts = /^(list|read|patch|create|replace|delete)(Namespaced)?([A-Z]\w*?)(ForAllNamespaces)?$/.exec(m[2]!);
    assert.ok(parts, `cannot map ${m[1]}.${m[2]} to an RBAC verb and resource; extend this test`);
    const [, op, namespaced, kind] = parts;
    calls.push({ method: m[2]!, verbs: [VERBS[op!]!], group, resource: plural(kind!), scope: namespaced ? "namespaced" : "cluster" });
  }
  // Exec goes through exec-command.ts: a WebSocket GET that API servers
  // authorize as `get pods/exec`, and since 1.35 also as `create`.
  if (/\bexecCommand\(kc\b/.test(src)) {
    const exec = readRepoFile(EXEC_COMMAND);
    assert.match(exec, /new Exec\(/, `${EXEC_COMMAND} no longer uses client-node's Exec; update this test`);
    assert.doesNotMatch(exec, /new (Attach|PortForward|Log|Cp)\(/, "a new streaming call: add its RBAC and extend this test");
    calls.push({ method: "Exec", verbs: ["create", "get"], group: "", resource: "pods/exec", scope: "namespaced" });
  }
  return calls;
}

/** Where each call is made, from the snapshot's constants. Every call in kube-client.ts must be listed here. */
function scopes(): Record<string, { namespaces?: string[]; names?: string[]; notGranted?: string }> {
  const snap = readRepoFile(SNAPSHOT);
  const flannelNamespaces = stringArrayConst(snap, "FLANNEL_NAMESPACES");
  const flannelDaemonSets = stringArrayConst(snap, "FLANNEL_DS_NAMES");
  const cfg = /getConfigMap\(\s*\w+\s*,\s*"([^"]+)"\s*\)/.exec(snap);
  assert.ok(cfg, `${SNAPSHOT} no longer reads flannel's ConfigMap by a literal name; update this test`);
  assert.match(snap, /listPods\(AGENT_NAMESPACE\b/, "the agents are no longer listed in AGENT_NAMESPACE; update this test");
  return {
    listNode: {},
    listPodForAllNamespaces: {},
    listNamespacedPod: { namespaces: [AGENT_NAMESPACE] },
    listServiceForAllNamespaces: {},
    readNamespacedDaemonSet: { namespaces: flannelNamespaces, names: flannelDaemonSets },
    // the DaemonSet the snapshot found: one of those names in one of those namespaces
    patchNamespacedDaemonSet: { namespaces: flannelNamespaces, names: flannelDaemonSets },
    readNamespacedConfigMap: { namespaces: flannelNamespaces, names: [cfg[1]!] },
    listNamespacedDaemonSet: { namespaces: flannelNamespaces, notGranted: "the snapshot's fallback LIST by label; it ignores the 403" },
    Exec: { namespaces: [AGENT_NAMESPACE] },
  };
}

function neededPermissions(): { needed: Permission[]; refused: Permission[] } {
  const table = scopes();
  const needed: Permission[] = [];
  const refused: Permission[] = [];
  for (const call of apiCallsInSource()) {
    const scope = table[call.method];
    assert.ok(scope, `kube-client.ts calls ${call.method}, which this test does not know: decide its RBAC (deploy/cluster/rbac*.yaml) and add it here`);
    const namespaces = call.scope === "cluster" ? [undefined] : (scope.namespaces ?? [undefined]);
    for (const verb of call.verbs)
      for (const namespace of namespaces)
        for (const name of scope.names ?? [undefined])
          (scope.notGranted ? refused : needed).push({ verb, group: call.group, resource: call.resource, namespace, name });
  }
  return { needed, refused };
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

describe("RBAC derived from the Kubernetes calls in src/", () => {
  it("finds the calls xnode makes", () => {
    const methods = apiCallsInSource().map((c) => c.method);
    // a floor, not the list: the comparison below is what matters
    for (const m of ["listNode", "listPodForAllNamespaces", "readNamespacedDaemonSet", "patchNamespacedDaemonSet", "Exec"]) assert.ok(methods.includes(m), m);
  });

  it("grants every call xnode makes", async () => {
    const granted = grantedPermissions(await rbacRulesFromDeploy());
    const missing = neededPermissions().needed.filter((p) => !granted.some((g) => allows(g, p)));
    assert.deepEqual(missing.map(show), [], "calls in src/kube/kube-client.ts that deploy/ does not grant");
  });

  it("grants nothing that no call needs", async () => {
    const { needed } = neededPermissions();
    const granted = grantedPermissions(await rbacRulesFromDeploy());
    const unused = granted.filter((g) => !needed.some((p) => same(g, p)));
    assert.deepEqual(unused.map(show), [], "granted permissions no call in src/ needs (or broader than the call needs)");
  });

  it("does not grant the snapshot's LIST fallback, which the code tolerates being refused", async () => {
    const snap = readRepoFile(SNAPSHOT);
    assert.match(snap, /listDaemonSets\([^)]*\)\.catch\(/, "collect-snapshot.ts must keep ignoring a refused LIST of daemonsets, or RBAC must grant it");
    const granted = grantedPermissions(await rbacRulesFromDeploy());
    const refused = neededPermissions().refused;
    assert.ok(refused.length > 0);
    assert.deepEqual(refused.filter((p) => granted.some((g) => allows(g, p))).map(show), []);
  });

  it("names the flannel objects xnode may read and patch by name only", async () => {
    const rules = await rbacRulesFromDeploy();
    for (const r of rules.filter((x) => x.resources.includes("daemonsets") || x.resources.includes("configmaps"))) {
      assert.ok(r.resourceNames?.length, `a rule on ${r.resources.join(",")} without resourceNames`);
      assert.ok(r.namespaces?.length, `a cluster-wide rule on ${r.resources.join(",")}`);
    }
  });

  it("KubeClient methods that take flannel's names get them from the snapshot", () => {
    const sources = listFiles("src").filter((f) => f.endsWith(".ts") && !f.startsWith("src/kube/"));
    const callers = (re: RegExp) => sources.filter((f) => re.test(readRepoFile(f)));
    // Lookups by name happen where the names are defined…
    assert.deepEqual(
      callers(/\.(listDaemonSets|getConfigMap)\(/),
      [SNAPSHOT],
      "a new caller may use other namespaces or names: check its RBAC and extend this test",
    );
    // …and remediation reads/patches the DaemonSet the snapshot found (a
    // plan's patch target), so the same names and namespaces apply.
    const dsUsers = callers(/\.(getDaemonSet|patchDaemonSet)\(/).filter((f) => f !== SNAPSHOT);
    for (const f of dsUsers)
      assert.ok(f.startsWith("src/remediation/"), `${f} reads or patches a DaemonSet: check its names against RBAC and extend this test`);
    // Planners (outside src/remediation, whose rollback re-targets an applied patch).
    const planners = sources.filter((f) => !f.startsWith("src/remediation/") && /\bpatch:\s*\{\s*namespace:/.test(readRepoFile(f)));
    assert.ok(planners.length > 0, "no DaemonSet patch planner found; update this test");
    for (const f of planners)
      assert.match(
        readRepoFile(f),
        /snapshot\.flannel\.daemonSet\b/,
        `${f} builds a DaemonSet patch target from something other than the snapshot's flannel DaemonSet`,
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
      rules.find((r) => r.resources.includes("nodes")),
      { verbs: ["list"], apiGroups: [""], resources: ["nodes", "pods", "services"] },
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

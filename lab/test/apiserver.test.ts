// The lab's emulated API server against the two clients xnode and its users
// have: kubectl 1.32 and @kubernetes/client-node 1.4. Needs root (exec runs in
// a network namespace this test creates) and kubectl; without them it fails.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";
import type { RequestRecord } from "../src/apiserver/admin.js";
import { makeCertificates } from "../src/apiserver/certs.js";
import { renderKubeconfig } from "../src/apiserver/kubeconfig.js";
import { startApiServer, type ApiServer } from "../src/apiserver/server.js";
import { ObjectStore, type StoreEvent } from "../src/apiserver/store.js";

const run = promisify(execFile);
const NS = "kube-system";
const DS = "kube-flannel-ds-amd64";
const POD = "kube-flannel-ds-amd64-x7k2p"; // exec lands in the test's netns
const OTHER_POD = "kube-flannel-ds-amd64-q9w4z"; // resolveExec knows no netns for it
const TOKEN = randomBytes(16).toString("hex");
const ADMIN = randomBytes(16).toString("hex");

function seed(store: ObjectStore): void {
  store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  for (const [name, ip, role] of [
    ["k8s-master1", "192.168.56.101", "control-plane"],
    ["k8s-node1", "192.168.56.102", undefined],
  ] as const) {
    store.create({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, ...(role ? { [`node-role.kubernetes.io/${role}`]: "" } : {}) } },
      spec: { podCIDR: name === "k8s-master1" ? "10.244.0.0/24" : "10.244.1.0/24" },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [
          { type: "InternalIP", address: ip },
          { type: "Hostname", address: name },
        ],
        nodeInfo: { kubeletVersion: "v1.32.4", osImage: "Ubuntu 24.04 LTS", kernelVersion: "6.8.0", containerRuntimeVersion: "containerd://1.7.27" },
      },
    });
  }
  store.create({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: DS, namespace: NS, labels: { app: "flannel" } },
    spec: {
      selector: { matchLabels: { app: "flannel" } },
      template: {
        metadata: { labels: { app: "flannel" } },
        spec: { containers: [{ name: "kube-flannel", image: "flannel/flannel:v0.26.7", args: ["--ip-masq", "--kube-subnet-mgr"] }] },
      },
    },
    status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberAvailable: 2 },
  });
  for (const [name, node] of [
    [POD, "k8s-master1"],
    [OTHER_POD, "k8s-node1"],
  ]) {
    store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS, labels: { app: "flannel", tier: "node" } },
      spec: { nodeName: node, hostNetwork: true, containers: [{ name: "kube-flannel", image: "flannel/flannel:v0.26.7" }] },
      status: { phase: "Running", podIP: "192.168.56.101", containerStatuses: [{ name: "kube-flannel", ready: true, restartCount: 0 }] },
    });
  }
}

function args(store: ObjectStore): string[] {
  return store.get("DaemonSet", NS, DS)!.spec.template.spec.containers[0].args;
}

describe("lab API server", () => {
  const netns = `xl-apitest-${randomBytes(3).toString("hex")}`;
  const store = new ObjectStore();
  let dir = "";
  let kubeconfigFile = "";
  let caPem = "";
  let server: ApiServer;
  let kc: k8s.KubeConfig;
  let netnsCreated = false;

  before(async () => {
    assert.equal(process.getuid?.(), 0, "the API server tests need root: exec runs in a network namespace made with `ip netns add`");
    try {
      execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    } catch (err) {
      assert.fail(`kubectl is required for the API server tests and could not be run: ${(err as Error).message}`);
    }
    dir = await mkdtemp(join(tmpdir(), "xnode-apitest-"));
    await run("ip", ["netns", "add", netns]);
    netnsCreated = true;
    for (const cmd of [
      ["link", "set", "lo", "up"],
      ["link", "add", "veth0", "type", "veth", "peer", "name", "veth1"], // veth: the dummy module may be missing
      ["addr", "add", "10.99.0.1/24", "dev", "veth0"],
      ["link", "set", "veth1", "up"],
      ["link", "set", "veth0", "up"],
    ]) {
      await run("ip", ["-n", netns, ...cmd]);
    }
    const certs = await makeCertificates(dir);
    caPem = certs.caPem;
    seed(store);
    const started = performance.now();
    server = await startApiServer({
      store,
      token: TOKEN,
      adminToken: ADMIN,
      tls: { cert: certs.certPem, key: certs.keyPem },
      resolveExec: (namespace, pod) => (namespace === NS && pod === POD ? { netns } : undefined),
    });
    console.log(`# apiserver started in ${(performance.now() - started).toFixed(1)} ms`);
    kubeconfigFile = join(dir, "lab.kubeconfig");
    await writeFile(kubeconfigFile, renderKubeconfig({ name: "lab-test", server: server.url, caPem, token: TOKEN }));
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigFile);
  });

  after(async () => {
    await server?.stop();
    if (netnsCreated) await run("ip", ["netns", "del", netns]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** kubectl with the lab kubeconfig; rejects with the exit code on failure. */
  const kubectl = (...argv: string[]) =>
    run("kubectl", ["--kubeconfig", kubeconfigFile, "--cache-dir", join(dir, "kube-cache"), ...argv], { env: { PATH: process.env.PATH ?? "", HOME: dir } });

  /** Raw HTTPS call that verifies the lab CA, for what neither client exposes. */
  const call = (method: string, path: string, token: string, body?: unknown, contentType = "application/json") =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form API answers, read field by field in assertions
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, ca: caPem, headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      });
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const admin = (method: string, path: string, body?: unknown) => call(method, path, ADMIN, body);

  /** client-node Exec; resolves with the output once the status arrives. */
  const clientExec = async (command: string[], pod = POD) => {
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sink = (into: Buffer[]) => new Writable({ write: (c: Buffer, _e, cb) => (into.push(c), cb()) });
    const stdout = sink(chunks.stdout);
    const stderr = sink(chunks.stderr);
    const started = performance.now();
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec(NS, pod, "kube-flannel", command, stdout, stderr, null, false, resolve).catch(reject);
    });
    await Promise.all([finished(stdout), finished(stderr)]);
    const text = (b: Buffer[]) => Buffer.concat(b).toString();
    return { status, stdout: text(chunks.stdout), stderr: text(chunks.stderr), ms: performance.now() - started };
  };

  describe("kubectl 1.32", () => {
    test("get nodes -o wide prints the server's Table with wide columns", async () => {
      const { stdout } = await kubectl("get", "nodes", "-o", "wide");
      const [header, ...rows] = stdout.trim().split("\n");
      assert.match(header!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE/);
      assert.match(rows[0]!, /^k8s-master1\s+Ready\s+control-plane\s+\S+\s+v1\.32\.4\s+192\.168\.56\.101\s/);
      assert.match(rows[1]!, /^k8s-node1\s+Ready\s+<none>\s+\S+\s+v1\.32\.4\s+192\.168\.56\.102\s/);
    });

    test("get ds (short name) and get pods -A -o wide", async () => {
      const ds = await kubectl("-n", NS, "get", "ds");
      assert.match(ds.stdout, /NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE/);
      assert.match(ds.stdout, new RegExp(`${DS}\\s+2\\s+2\\s+2\\s+2\\s+2\\s+<none>`));
      const pods = await kubectl("get", "pods", "-A", "-o", "wide");
      assert.match(pods.stdout, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
      assert.match(pods.stdout, new RegExp(`${NS}\\s+${POD}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+192\\.168\\.56\\.101\\s+k8s-master1`));
    });

    test("get node -o yaml returns the stored object", async () => {
      const { stdout } = await kubectl("get", "node", "k8s-node1", "-o", "yaml");
      const node = parseYaml(stdout);
      assert.equal(node.kind, "Node");
      assert.equal(node.spec.podCIDR, "10.244.1.0/24");
      assert.equal(node.metadata.resourceVersion, store.get("Node", undefined, "k8s-node1")!.metadata.resourceVersion);
    });

    test("patch ds --type=json, --type=merge and the default strategic merge", async () => {
      const generation = store.get("DaemonSet", NS, DS)!.metadata.generation!;
      const json = await kubectl(
        "-n",
        NS,
        "patch",
        "ds",
        DS,
        "--type=json",
        "-p",
        '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--iface=enp0s8"}]',
      );
      assert.match(json.stdout, /daemonset.apps\/kube-flannel-ds-amd64 patched/);
      assert.deepEqual(args(store), ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"]);
      assert.equal(store.get("DaemonSet", NS, DS)!.metadata.generation, generation + 1);

      await kubectl("-n", NS, "patch", "ds", DS, "--type=merge", "-p", '{"metadata":{"labels":{"patched-by":"merge"}}}');
      const afterMerge = store.get("DaemonSet", NS, DS)!;
      assert.equal(afterMerge.metadata.labels!["patched-by"], "merge");
      assert.equal(afterMerge.metadata.generation, generation + 1, "a metadata-only change keeps the generation");

      // Strategic merge matches containers by name: args change, the image stays.
      const smp = '{"spec":{"template":{"spec":{"containers":[{"name":"kube-flannel","args":["--ip-masq","--kube-subnet-mgr","--iface=enp0s9"]}]}}}}';
      await kubectl("-n", NS, "patch", "ds", DS, "-p", smp);
      const container = store.get("DaemonSet", NS, DS)!.spec.template.spec.containers[0];
      assert.deepEqual(container.args, ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s9"]);
      assert.equal(container.image, "flannel/flannel:v0.26.7");
      const again = await kubectl("-n", NS, "patch", "ds", DS, "-p", smp);
      assert.match(again.stdout, /patched \(no change\)/);
    });

    test("exec runs in the pod's network namespace and passes the exit code", async () => {
      const { stdout } = await kubectl("-n", NS, "exec", POD, "--", "ip", "-j", "route");
      const routes = JSON.parse(stdout) as { dst: string; dev: string }[];
      assert.ok(
        routes.some((r) => r.dst === "10.99.0.0/24" && r.dev === "veth0"),
        `routes from the netns: ${stdout}`,
      );
      await assert.rejects(kubectl("-n", NS, "exec", POD, "--", "false"), (err: { code: number }) => err.code === 1);
      await assert.rejects(kubectl("-n", NS, "exec", POD, "--", "sh", "-c", "exit 3"), (err: { code: number }) => err.code === 3);
    });
  });

  /** client-node's Exec rejects with the ws ErrorEvent; only the HTTP code survives, not the Status body. */
  const upgradeRefused = (code: number) => (err: { message?: string }) => err.message === `Unexpected server response: ${code}`;

  describe("@kubernetes/client-node 1.4", () => {
    test("listNode and listNamespacedPod with label and field selectors", async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const nodes = await core.listNode();
      assert.deepEqual(
        nodes.items.map((n) => n.metadata?.name),
        ["k8s-master1", "k8s-node1"],
      );
      assert.ok(nodes.metadata?.resourceVersion);
      const onNode1 = await core.listNamespacedPod({
        namespace: NS,
        labelSelector: "app in (flannel),tier=node,!missing",
        fieldSelector: "spec.nodeName=k8s-node1",
      });
      assert.deepEqual(
        onNode1.items.map((p) => p.metadata?.name),
        [OTHER_POD],
      );
      const none = await core.listNamespacedPod({ namespace: NS, labelSelector: "app!=flannel" });
      assert.equal(none.items.length, 0);
      await assert.rejects(core.listNamespacedPod({ namespace: NS, fieldSelector: "spec.bogus=x" }), (err: k8s.ApiException<string>) => err.code === 400);
    });

    test("patchNamespacedDaemonSet: json patch guarded by resourceVersion, 422/409 when stale, dryRun, merge and strategic", async () => {
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const ds = await apps.readNamespacedDaemonSet({ name: DS, namespace: NS });
      const rv = ds.metadata!.resourceVersion!;
      const add = (value: string) => ({ op: "add", path: "/spec/template/spec/containers/0/args/-", value });

      // Default Content-Type in 1.4 is application/json-patch+json.
      const patched = await apps.patchNamespacedDaemonSet({
        name: DS,
        namespace: NS,
        body: [{ op: "test", path: "/metadata/resourceVersion", value: rv }, add("--v=2")],
      });
      assert.notEqual(patched.metadata!.resourceVersion, rv);
      assert.equal(args(store).at(-1), "--v=2");

      await assert.rejects(
        apps.patchNamespacedDaemonSet({ name: DS, namespace: NS, body: [{ op: "test", path: "/metadata/resourceVersion", value: rv }, add("--v=3")] }),
        (err: k8s.ApiException<string>) => err.code === 422,
      );
      await assert.rejects(
        apps.patchNamespacedDaemonSet({ name: DS, namespace: NS, body: [{ op: "replace", path: "/metadata/resourceVersion", value: rv }, add("--v=3")] }),
        (err: k8s.ApiException<string>) => err.code === 409 && /the object has been modified/.test(String(err.body)),
      );

      const before = store.get("DaemonSet", NS, DS)!;
      const events: StoreEvent[] = [];
      const onChange = (e: StoreEvent) => events.push(e);
      store.on("change", onChange);
      const dry = await apps.patchNamespacedDaemonSet({ name: DS, namespace: NS, body: [add("--dry")], dryRun: "All" });
      store.off("change", onChange);
      assert.equal(dry.spec!.template.spec!.containers[0]!.args!.at(-1), "--dry");
      assert.deepEqual(store.get("DaemonSet", NS, DS), before, "dryRun=All must not store anything");
      assert.equal(events.length, 0, "dryRun=All must not emit change events");

      const merge = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
      await apps.patchNamespacedDaemonSet({ name: DS, namespace: NS, body: { metadata: { annotations: { "xnode/by": "merge" } } } }, merge);
      assert.equal(store.get("DaemonSet", NS, DS)!.metadata.annotations!["xnode/by"], "merge");
      await assert.rejects(
        apps.patchNamespacedDaemonSet({ name: DS, namespace: NS, body: { metadata: { resourceVersion: rv } } }, merge),
        (err: k8s.ApiException<string>) => err.code === 409,
      );

      const strategic = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch);
      const body = { spec: { template: { spec: { containers: [{ name: "kube-flannel", args: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] }] } } } };
      await apps.patchNamespacedDaemonSet({ name: DS, namespace: NS, body }, strategic);
      assert.deepEqual(args(store), ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"]);
      assert.equal(store.get("DaemonSet", NS, DS)!.spec.template.spec.containers[0].image, "flannel/flannel:v0.26.7");
    });

    test("Exec returns stdout, stderr and the status with the exit code", async () => {
      const ok = await clientExec(["ip", "-j", "addr", "show", "veth0"]);
      assert.equal(ok.status.status, "Success");
      assert.equal(JSON.parse(ok.stdout)[0].addr_info[0].local, "10.99.0.1");
      console.log(`# client-node exec round trip ${ok.ms.toFixed(1)} ms`);

      const failed = await clientExec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.equal(failed.stdout, "out\n");
      assert.equal(failed.stderr, "err\n");
      assert.equal(failed.status.status, "Failure");
      assert.equal(failed.status.reason, "NonZeroExitCode");
      assert.deepEqual(failed.status.details?.causes, [{ reason: "ExitCode", message: "3" }]);

      const missing = await clientExec(["no-such-command-xnode"]);
      assert.equal(missing.status.details?.causes?.[0]?.message, "127");
      assert.match(missing.stderr, /executable file not found/);
    });

    test("exec into a pod without a netns or an unknown pod is a 404 before the upgrade", async () => {
      await assert.rejects(clientExec(["true"], OTHER_POD), upgradeRefused(404));
      await assert.rejects(clientExec(["true"], "no-such-pod"), upgradeRefused(404));
      const spdy = await call("POST", `/api/v1/namespaces/${NS}/pods/${POD}/exec?command=true&stdout=true`, TOKEN);
      assert.equal(spdy.status, 400);
      assert.match(spdy.json.message, /WebSocket/);
    });

    test("Watch streams changes made to the store", async () => {
      const seen: string[] = [];
      const done = new Promise<void>((resolve) => {
        void new k8s.Watch(kc)
          .watch(
            `/api/v1/namespaces/${NS}/pods`,
            { labelSelector: "app=watched" },
            (type, obj: k8s.V1Pod) => {
              seen.push(`${type} ${obj.metadata?.name}`);
              if (type === "DELETED") resolve();
            },
            () => undefined,
          )
          .then((ctl) => {
            store.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "w1", namespace: NS, labels: { app: "watched" } }, spec: { containers: [] } });
            store.update("Pod", NS, "w1", (p) => void (p.metadata.labels!.extra = "1"));
            store.delete("Pod", NS, "w1");
            void done.then(() => ctl.abort());
          });
      });
      await done;
      assert.deepEqual(seen, ["ADDED w1", "MODIFIED w1", "DELETED w1"]);
    });
  });

  describe("authentication, authorization and the lab endpoints", () => {
    test("a wrong token gets 401 with a Status object", async () => {
      const res = await call("GET", "/api/v1/nodes", "wrong-token");
      assert.equal(res.status, 401);
      assert.deepEqual(res.json, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
      const bad = new k8s.KubeConfig();
      bad.loadFromString(renderKubeconfig({ name: "bad", server: server.url, caPem, token: "wrong-token" }));
      await assert.rejects(bad.makeApiClient(k8s.CoreV1Api).listNode(), (err: k8s.ApiException<unknown>) => err.code === 401);
    });

    test("authz rules: granted verbs pass, the rest get the real 403", async () => {
      const rules = [
        { verbs: ["get", "list"], apiGroups: ["apps"], resources: ["daemonsets"] },
        { verbs: ["list"], apiGroups: [""], resources: ["nodes"] },
      ];
      assert.equal((await admin("POST", "/_lab/authz", { rules })).status, 200);
      try {
        const apps = kc.makeApiClient(k8s.AppsV1Api);
        await apps.readNamespacedDaemonSet({ name: DS, namespace: NS });
        await kc.makeApiClient(k8s.CoreV1Api).listNode();
        const denied = await call("PATCH", `/apis/apps/v1/namespaces/${NS}/daemonsets/${DS}`, TOKEN, [], "application/json-patch+json");
        assert.equal(denied.status, 403);
        assert.equal(denied.json.reason, "Forbidden");
        assert.equal(
          denied.json.message,
          `daemonsets.apps "${DS}" is forbidden: User "xnode" cannot patch resource "daemonsets" in API group "apps" in the namespace "${NS}"`,
        );
        await assert.rejects(kubectl("-n", NS, "exec", POD, "--", "true"), (err: { stderr: string }) => /cannot get resource "pods"/.test(err.stderr));
        await assert.rejects(clientExec(["true"]), upgradeRefused(403));
        const discovery = await call("GET", "/apis", TOKEN);
        assert.equal(discovery.status, 200, "non-resource URLs stay allowed");
      } finally {
        await admin("POST", "/_lab/authz", { rules: null });
      }
      await kubectl("-n", NS, "exec", POD, "--", "true");
    });

    test("/_lab/requests records every API request with its verb and status", async () => {
      assert.equal((await admin("DELETE", "/_lab/requests")).status, 204);
      await kubectl("-n", NS, "patch", "ds", DS, "--type=merge", "-p", '{"metadata":{"labels":{"count":"1"}}}');
      await kubectl("-n", NS, "patch", "ds", DS, "--type=merge", "-p", '{"metadata":{"labels":{"count":"2"}}}');
      await kubectl("-n", NS, "exec", POD, "--", "true");
      const log = (await admin("GET", "/_lab/requests")).json as RequestRecord[];
      const patches = log.filter((r) => r.verb === "patch" && r.resource === "daemonsets");
      assert.equal(patches.length, 2);
      assert.deepEqual([patches[0]!.namespace, patches[0]!.name, patches[0]!.status, patches[0]!.user], [NS, DS, 200, "xnode"]);
      const exec = log.find((r) => r.subresource === "exec");
      assert.deepEqual([exec?.verb, exec?.resource, exec?.status, exec?.query.command], ["create", "pods", 101, "true"]);
      assert.equal((await call("GET", "/_lab/requests", TOKEN)).status, 401, "the API token is not an admin token");
    });

    test("exec-hang accepts the exec and never answers", async () => {
      await admin("POST", "/_lab/exec-hang", { namespace: NS, pod: POD, hang: true });
      try {
        let status: k8s.V1Status | undefined;
        const ws = await new k8s.Exec(kc).exec(
          NS,
          POD,
          "kube-flannel",
          ["echo", "hi"],
          new Writable({ write: (_c, _e, cb) => cb() }),
          null,
          null,
          false,
          (s) => (status = s),
        );
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(status, undefined, "a hung exec must not send a status");
        assert.equal(ws.readyState, ws.OPEN);
        ws.close();
      } finally {
        await admin("POST", "/_lab/exec-hang", { namespace: NS, pod: POD, hang: false });
      }
      assert.equal((await clientExec(["echo", "back"])).stdout, "back\n");
    });
  });
});

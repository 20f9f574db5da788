// The Kubernetes adapter's errors: what happened, on which resource, and what
// to try, against the emulated API server (no network namespaces needed) and
// a server that accepts connections and never answers.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isXnodeError } from "../../src/errors.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { makeCertificates, ObjectStore, renderKubeconfig, startApiServer, type ApiServer } from "@xnode/lab/apiserver";
import { adminRequest } from "../helpers/lab-fixture.js";

describe("kube client errors", () => {
  let dir: string;
  let server: ApiServer;
  let caPem: string;
  const adminToken = "admin-token";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xnode-kube-"));
    const tls = await makeCertificates(dir);
    caPem = tls.caPem;
    const store = new ObjectStore();
    store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } });
    store.create({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    server = await startApiServer({ store, token: "good-token", adminToken, resolveExec: () => undefined, tls: { cert: tls.certPem, key: tls.keyPem } });
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function client(token: string, requestTimeoutMs?: number, server_ = server.url) {
    const file = join(dir, `${token}.kubeconfig`);
    await writeFile(file, renderKubeconfig({ name: "t", server: server_, caPem, token }));
    return createKubeClient({ cluster: "t", kubeconfig: file, ...(requestTimeoutMs ? { requestTimeoutMs } : {}) });
  }

  test("works with the right token; a missing object is undefined, not an error", async () => {
    const kube = await client("good-token");
    assert.deepEqual(
      (await kube.listNodes()).map((n) => n.metadata.name),
      ["n1"],
    );
    assert.equal(await kube.getDaemonSet("kube-system", "kube-flannel-ds"), undefined);
  });

  test("a wrong token is KUBE_UNAUTHORIZED with a hint about the kubeconfig", async () => {
    const kube = await client("bad-token");
    await assert.rejects(
      kube.listNodes(),
      (err: unknown) => isXnodeError(err) && err.code === "KUBE_UNAUTHORIZED" && /cluster t/.test(err.message) && /kubeconfig/.test(err.hint),
    );
  });

  test("a forbidden verb names the verb, resource and namespace, and what to grant", async () => {
    await adminRequest({ url: server.url, caPem, adminToken }, "POST", "/_lab/authz", { rules: [{ verbs: ["list"], apiGroups: [""], resources: ["nodes"] }] });
    try {
      const kube = await client("good-token");
      await assert.rejects(kube.patchDaemonSet("kube-system", "kube-flannel-ds", [{ op: "add", path: "/x", value: 1 }]), (err: unknown) => {
        assert.ok(isXnodeError(err));
        assert.equal(err.code, "KUBE_FORBIDDEN");
        assert.match(err.message, /cannot patch daemonsets "kube-flannel-ds" in namespace kube-system on cluster t: forbidden/);
        assert.match(err.hint, /Grant xnode's service account "patch" on daemonsets in kube-system/);
        return true;
      });
    } finally {
      await adminRequest({ url: server.url, caPem, adminToken }, "POST", "/_lab/authz", { rules: null });
    }
  });

  test("an API server that never answers fails after the request timeout", async () => {
    const sockets: Socket[] = [];
    const hung: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    try {
      const port = (hung.address() as { port: number }).port;
      const kube = await client("good-token", 500, `https://127.0.0.1:${port}`);
      const started = Date.now();
      await assert.rejects(
        kube.listNodes(),
        (err: unknown) => isXnodeError(err) && err.code === "KUBE_UNREACHABLE" && /did not answer list nodes within 1 s|within 0 s/.test(err.message),
      );
      assert.ok(Date.now() - started < 5_000);
    } finally {
      for (const s of sockets) s.destroy();
      hung.close();
    }
  });

  test("nothing listening is KUBE_UNREACHABLE", async () => {
    // A port just freed (fetch refuses "bad ports" such as 9 outright, before connecting).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const kube = await client("good-token", undefined, `https://127.0.0.1:${port}`);
    await assert.rejects(kube.listNodes(), (err: unknown) => isXnodeError(err) && err.code === "KUBE_UNREACHABLE" && /ECONNREFUSED/.test(err.message));
  });
});

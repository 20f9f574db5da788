// Every exec of a check builds on one TLS context while the kubeconfig's TLS
// material is unchanged, and on a new one when it changes (an exec credential
// plugin rotating the client certificate); execs still work over it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls, { type SecureContext } from "node:tls";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { Lab, parseScenario } from "@xnode/lab";
import { collectSnapshot } from "../../src/check/collect-snapshot.js";
import { hostAgentTarget } from "../../src/check/inspect-host.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { withReusedTlsContext } from "../../src/kube/reused-tls-context.js";

test("execs against the lab's API server share one TLS context and still answer", async () => {
  const lab = await Lab.start(parseScenario({ name: "tls-reuse", synthetic: { nodes: 3, execLatencyMs: 0 }, flannel: { network: "10.0.0.0/8" }, faults: [] }), {
    name: `tls-reuse-${randomBytes(2).toString("hex")}`,
  });
  const dir = await mkdtemp(join(tmpdir(), "xnode-tls-"));
  const connect = tls.connect;
  const contexts: (SecureContext | undefined)[] = [];
  try {
    const file = join(dir, "kubeconfig");
    await writeFile(file, lab.kubeconfig);
    const kube = createKubeClient({ cluster: "tls", kubeconfig: file });
    const snapshot = await collectSnapshot(kube);
    (tls as { connect: unknown }).connect = (...args: Parameters<typeof connect>) => {
      contexts.push((args.find((a) => typeof a === "object") as tls.ConnectionOptions | undefined)?.secureContext);
      return connect(...args);
    };
    const results = await Promise.all(snapshot.nodes.map((n) => kube.exec(hostAgentTarget(n)!, ["ip", "-j", "addr", "show"], 10_000)));
    assert.ok(results.every((r) => r.exitCode === 0 && r.stdout.startsWith("[")));
    assert.equal(contexts.length, 3, "one TLS connection per exec");
    assert.ok(contexts[0] !== undefined && contexts.every((c) => c === contexts[0]), "the same context for every exec");
  } finally {
    (tls as { connect: unknown }).connect = connect;
    await lab.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a changed client certificate gets a new context", async () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1" }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const reusing = withReusedTlsContext(kc);
  const contextOf = async () => {
    const opts: { secureContext?: SecureContext } = {};
    await reusing.applyToHTTPSOptions(opts as never);
    return opts.secureContext;
  };
  const first = await contextOf();
  assert.ok(first);
  assert.equal(await contextOf(), first);
  // what an exec plugin's new credential does to the options: other TLS material
  const apply = kc.applyToHTTPSOptions.bind(kc);
  kc.applyToHTTPSOptions = async (opts) => {
    await apply(opts);
    Object.assign(opts, { ciphers: "TLS_AES_256_GCM_SHA384" });
  };
  const second = await contextOf();
  assert.ok(second && second !== first);
  assert.equal(await contextOf(), second);
});

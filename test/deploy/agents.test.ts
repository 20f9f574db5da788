// The two agent DaemonSets are a fixed interface (DESIGN.md): namespace,
// labels, one pod of each per node; the host agent gets exactly NET_ADMIN and
// NET_RAW. Their image carries exactly the tools the probes run, and its own
// two pieces (xnode-agent.c, iptables-wrapper) are built and run here.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AGENT_NAMESPACE, HOST_AGENT_SELECTOR, POD_AGENT_SELECTOR } from "../../src/check/collect-snapshot.js";
import { POD_AGENT_PORT } from "../../src/check/plan-reach-targets.js";
import { DEFAULT_OVERLAY, find, listFiles, readRepoFile, REPO, render, type K8sObject, type Workload } from "./render.js";

const labelsOf = (selector: string) => Object.fromEntries(selector.split(",").map((kv) => kv.split("=") as [string, string]));

async function agents() {
  const objects = await render("deploy/cluster");
  return {
    objects,
    host: find(objects, "DaemonSet", "xnode-host-agent", AGENT_NAMESPACE) as Workload,
    pod: find(objects, "DaemonSet", "xnode-pod-agent", AGENT_NAMESPACE) as Workload,
  };
}

describe("agent DaemonSets", () => {
  it("carry exactly the labels collect-snapshot.ts selects on, in xnode-system", async () => {
    const { host, pod } = await agents();
    for (const [ds, selector] of [
      [host, HOST_AGENT_SELECTOR],
      [pod, POD_AGENT_SELECTOR],
    ] as const) {
      assert.deepEqual(ds.spec.selector.matchLabels, labelsOf(selector), ds.metadata.name);
      assert.deepEqual(ds.spec.template.metadata.labels, labelsOf(selector), ds.metadata.name);
      assert.equal(ds.spec.template.spec.containers.length, 1, "exec names no container, so one per pod");
    }
  });

  it("are the same in every install", async () => {
    const { host, pod } = await agents();
    for (const dir of ["deploy/base", DEFAULT_OVERLAY, "deploy/overlays/external-redis"]) {
      const objects = await render(dir);
      assert.deepEqual(find(objects, "DaemonSet", "xnode-host-agent"), host, dir);
      assert.deepEqual(find(objects, "DaemonSet", "xnode-pod-agent"), pod, dir);
    }
  });

  it("host agent: node network, exactly NET_ADMIN and NET_RAW added to an ALL-dropped set, every taint tolerated", async () => {
    const { host } = await agents();
    const spec = host.spec.template.spec;
    assert.equal(spec.hostNetwork, true);
    assert.deepEqual(spec.tolerations, [{ operator: "Exists" }]);
    assert.equal(spec.automountServiceAccountToken, false);
    const sc = spec.containers[0]!.securityContext!;
    assert.deepEqual(sc.capabilities, { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] });
    assert.notEqual(sc.privileged, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.equal(sc.runAsUser, 0, "capabilities reach uid 0 only");
  });

  it("pod agent: pod network, no capabilities, non-root, pings via the ping_group_range of its own group", async () => {
    const { pod } = await agents();
    const spec = pod.spec.template.spec;
    assert.ok(!spec.hostNetwork);
    assert.deepEqual(spec.tolerations, [{ operator: "Exists" }], "one pod agent on every node");
    assert.equal(spec.automountServiceAccountToken, false);
    const c = spec.containers[0]!;
    assert.deepEqual(c.securityContext?.capabilities, { drop: ["ALL"] });
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(spec.securityContext?.seccompProfile?.type, "RuntimeDefault");
    const range = spec.securityContext?.sysctls
      ?.find((s) => s.name === "net.ipv4.ping_group_range")
      ?.value.split(" ")
      .map(Number);
    const gid = spec.securityContext?.runAsGroup;
    assert.ok(gid !== undefined, "the pod agent runs with a fixed group");
    assert.ok(range && range[0]! <= gid && gid <= range[1]!, `group ${gid} may not ping: ${range}`);
    assert.deepEqual(c.args, ["respond", String(POD_AGENT_PORT)]);
    assert.equal(c.ports?.find((p) => p.name === "http")?.containerPort, POD_AGENT_PORT);
  });

  it("the NodePort Service targets the pod agents on POD_AGENT_PORT, on a documented port in 30000-32767", async () => {
    const { objects, pod } = await agents();
    const svc = find(objects, "Service", "xnode-pod-agent", AGENT_NAMESPACE) as K8sObject & {
      spec: {
        type: string;
        selector: Record<string, string>;
        externalTrafficPolicy?: string;
        ports: Array<{ port: number; targetPort: string; nodePort: number }>;
      };
    };
    assert.equal(svc.spec.type, "NodePort");
    assert.deepEqual(svc.spec.selector, pod.spec.selector.matchLabels);
    assert.equal(svc.spec.externalTrafficPolicy, "Cluster");
    const [port] = svc.spec.ports;
    assert.equal(pod.spec.template.spec.containers[0]!.ports?.find((p) => p.name === port!.targetPort)?.containerPort, POD_AGENT_PORT);
    assert.ok(port!.nodePort >= 30000 && port!.nodePort <= 32767);
    assert.ok(readRepoFile("deploy/README.md").includes(String(port!.nodePort)), "deploy/README.md names the NodePort");
  });
});

describe("agent image", () => {
  const dockerfile = readRepoFile("deploy/agent-image/Dockerfile");
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

  it("is debian:bookworm-slim with exactly iproute2, iptables, nftables, iputils-ping, curl and tcpdump", () => {
    assert.match(dockerfile, /^ARG DEBIAN=debian:bookworm-slim$/m);
    assert.match(finalStage, /^FROM \$\{DEBIAN\}$/m);
    const installs = [...finalStage.matchAll(/apt-get install -y --no-install-recommends ([^\\\n&]+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
    assert.deepEqual(installs.sort(), ["curl", "iproute2", "iptables", "iputils-ping", "nftables", "tcpdump"]);
  });

  it("has every command the probes run", () => {
    // command → where it comes from in the image
    const provides: Record<string, string> = {
      ip: "iproute2",
      bridge: "iproute2",
      "iptables-save": "iptables",
      iptables: "iptables",
      ping: "iputils-ping",
      curl: "curl",
      "iptables-legacy-save": "iptables",
      "iptables-nft-save": "iptables",
      nft: "nftables",
      sh: "base",
      cat: "base",
      sed: "base",
      head: "base",
      grep: "base",
      mktemp: "base",
      timeout: "base",
      tcpdump: "tcpdump",
      "xnode-agent": "its own build stage",
    };
    const commands = new Set<string>();
    for (const file of listFiles("src/probes").filter((f) => f.endsWith(".ts"))) {
      const src = readRepoFile(file);
      for (const m of src.matchAll(/argv[^=]*=>\s*\[\s*"([^"]+)"/g)) commands.add(m[1]!);
      for (const m of src.matchAll(/return \[\s*"([^"]+)"/g)) commands.add(m[1]!);
      // the reachability script's own commands
      for (const m of src.matchAll(/\b(ping|curl|sed|head|tcpdump|mktemp|timeout)\s+["-]/g)) commands.add(m[1]!);
    }
    assert.ok(commands.has("ip") && commands.has("xnode-agent") && commands.has("iptables-save"), [...commands].join(","));
    assert.deepEqual(
      [...commands].filter((c) => !(c in provides)),
      [],
      "a probe runs a command the agent image may not have",
    );
  });

  it("strips ping's file capability (else a pod without NET_RAW cannot run it at all)", () => {
    assert.match(finalStage, /cp "\$ping" \/tmp\/ping && mv \/tmp\/ping "\$ping"/);
  });

  it("runs as non-root unless a pod says otherwise", () => {
    assert.match(finalStage, /^USER 65532:65532$/m);
  });
});

describe("xnode-agent (built from deploy/agent-image/xnode-agent.c)", () => {
  const dir = mkdtempSync(join(tmpdir(), "xnode-agent-"));
  const bin = join(dir, "xnode-agent");
  const children: ChildProcess[] = [];

  before(() => {
    // the Dockerfile's own compile flags, so a warning there fails here too
    const flags = /RUN gcc (.*) -o \/xnode-agent \/src\/xnode-agent\.c/.exec(readRepoFile("deploy/agent-image/Dockerfile"));
    assert.ok(flags, "the Dockerfile's gcc line changed; update this test");
    const r = spawnSync("gcc", [...flags[1]!.split(/\s+/), "-o", bin, join(REPO, "deploy/agent-image/xnode-agent.c")], { encoding: "utf8" });
    if (r.error) throw new Error(`gcc is needed to build the agent (apt-get install gcc): ${r.error.message}`);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });

  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    children.push(child);
    return child;
  };
  const exited = (child: ChildProcess, ms: number) =>
    new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
      child.once("exit", (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
  const get = (port: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/", timeout: 2000 }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end();
    });
  async function waitForPort(port: number): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nothing listens on ${port}`);
  }

  it("pause: idles, and exits 0 at once on SIGTERM (sleep infinity as PID 1 would not)", async () => {
    const child = start(["pause"]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(child.exitCode, null);
    child.kill("SIGTERM");
    assert.equal(await exited(child, 2000), 0);
  });

  it("respond: HTTP 200 naming the node", async () => {
    const port = await freePort();
    const child = start(["respond", String(port)], { NODE_NAME: "node-a" });
    await waitForPort(port);
    const res = await get(port);
    assert.equal(res.status, 200);
    assert.match(res.body, /^xnode-pod-agent .* on node-a\n$/);
    // curl as an operator would check it
    const out = execFileSync("curl", ["-s", "-o", "/dev/null", "--noproxy", "*", "-m", "2", "-w", "%{http_code}", `http://127.0.0.1:${port}/`], {
      encoding: "utf8",
    });
    assert.equal(out, "200");
    child.kill("SIGTERM");
    assert.equal(await exited(child, 2000), 0);
  });

  it("reach: reads many targets on stdin, keeps --concurrency in flight, writes one JSON line each", async () => {
    // the kernel completes handshakes into a deep accept queue; the responder's fork per connection would be the bottleneck here
    const server = createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 2048 }, resolve));
    const { port } = server.address() as { port: number };
    const closed = await freePort();
    const lines = [
      ...Array.from({ length: 600 }, (_, i) => `t${i} tcp 127.0.0.1 ${port}`),
      `closed tcp 127.0.0.1 ${closed}`,
      "lo icmp 127.0.0.1",
      "garbage tcp not-an-address 80",
    ];
    const started = Date.now();
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(bin, ["reach", "--timeout", "2", "--concurrency", "50"], (err, stdout) => (err ? reject(err) : resolve(stdout)));
      child.stdin!.end(lines.join("\n") + "\n");
    });
    const results = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; ok: boolean; error?: string; rttMs?: number });
    assert.equal(results.length, lines.length);
    const byId = new Map(results.map((r) => [r.id, r]));
    assert.equal(results.filter((r) => r.id.startsWith("t") && r.ok).length, 600);
    assert.deepEqual(byId.get("closed"), { id: "closed", ok: false, error: "refused" });
    assert.equal(byId.get("lo")?.ok, true, JSON.stringify(byId.get("lo")));
    assert.deepEqual(byId.get("garbage"), { id: "garbage", ok: false, error: "bad-target" });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    server.close();
  });

  it("reach: a target without a route is unreachable at once; usage errors exit 2", () => {
    // 192.0.2.0/24 is TEST-NET-1; in a namespace of its own nothing routes there, so no packet leaves this machine
    const r = spawnSync("unshare", ["--net", bin, "reach", "--timeout", "1"], { input: "a icmp 192.0.2.1\nb tcp 192.0.2.1 80\n", encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const errors = r.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { error?: string }).error);
    assert.deepEqual(errors, ["unreachable", "unreachable"]);
    assert.equal(spawnSync(bin, ["reach", "--concurrency", "0"], { input: "" }).status, 2);
    assert.equal(spawnSync(bin, ["reach", "--bogus"], { input: "" }).status, 2);
  });

  it("respond: a client that sends nothing does not hold up the others", async () => {
    const port = await freePort();
    const child = start(["respond", String(port)]);
    await waitForPort(port);
    const silent = connect(port, "127.0.0.1");
    await new Promise((r) => silent.once("connect", r));
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(port)));
    assert.ok(answers.every((a) => a.status === 200));
    assert.ok(Date.now() - started < 1000, "answers waited for the silent client");
    silent.destroy();
    child.kill("SIGTERM");
    await exited(child, 2000);
  });

  it("refuses a bad port and an unknown mode", () => {
    assert.equal(spawnSync(bin, ["respond", "70000"]).status, 2);
    assert.equal(spawnSync(bin, ["serve"]).status, 2);
  });
});

describe("iptables-wrapper", () => {
  // Stand-ins for the two backends: each prints N rules and says who it is.
  function fakeBackends(legacyRules: number, nftRules: number): { dir: string; run: (name: string) => string } {
    const dir = mkdtempSync(join(tmpdir(), "xnode-ipt-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const script = (name: string, rules: number) => {
      const path = join(bin, name);
      writeFileSync(
        path,
        `#!/bin/sh\necho "*filter"\n${Array.from({ length: rules }, (_, i) => `echo "-A FORWARD -j R${i}"`).join("\n")}\necho "COMMIT"\necho "ran ${name} $*" >&2\n`,
      );
      chmodSync(path, 0o755);
    };
    script("iptables-legacy-save", legacyRules);
    script("iptables-nft-save", nftRules);
    script("iptables-legacy", 0);
    script("iptables-nft", 0);
    const wrapper = join(REPO, "deploy/agent-image/iptables-wrapper");
    symlinkSync(wrapper, join(bin, "iptables-save"));
    symlinkSync(wrapper, join(bin, "iptables"));
    const run = (name: string) => {
      const r = spawnSync(join(bin, name), ["-x"], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return r.stderr.trim().split("\n").pop()!;
    };
    return { dir, run };
  }

  it("uses the backend that holds the node's rules", () => {
    assert.equal(fakeBackends(12, 0).run("iptables-save"), "ran iptables-legacy-save -x");
    assert.equal(fakeBackends(12, 0).run("iptables"), "ran iptables-legacy -x");
    assert.equal(fakeBackends(0, 40).run("iptables-save"), "ran iptables-nft-save -x");
    assert.equal(fakeBackends(3, 40).run("iptables"), "ran iptables-nft -x");
  });

  it("falls back to nft (Debian's default) on a node without rules", () => {
    assert.equal(fakeBackends(0, 0).run("iptables-save"), "ran iptables-nft-save -x");
  });
});

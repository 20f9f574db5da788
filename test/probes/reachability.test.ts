import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { delimiter } from "node:path";
import { describe, it } from "node:test";
import { agentBinaryDir } from "@xnode/lab/testing";
import { promisify } from "node:util";
import { ProbeOutputError } from "../../src/probes/probe.js";
import { hostReachabilityProbe, podReachabilityProbe, REACH_CONCURRENCY, type ReachInput } from "../../src/probes/reachability.js";

const run = promisify(execFile);
const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}`, import.meta.url), "utf8");
const probe = hostReachabilityProbe;

describe("reachability probe: argv and stdin", () => {
  const input: ReachInput = {
    timeoutSeconds: 2,
    targets: [
      { id: "n1:icmp", kind: "icmp", address: "10.244.1.0", iface: "flannel.1" },
      { id: "n1:tcp-30080", kind: "tcp", address: "192.168.56.102", port: 30080 },
    ],
  };

  it("runs the agent's reach mode with fixed argv; the targets go on stdin, one line each", () => {
    assert.deepEqual(probe.argv(input), ["xnode-agent", "reach", "--timeout", "2", "--concurrency", String(REACH_CONCURRENCY)]);
    assert.equal(probe.stdin!(input), "n1:icmp icmp 10.244.1.0 flannel.1\nn1:tcp-30080 tcp 192.168.56.102 30080\n");
    // argv (the exec URL) does not depend on the targets, however many there are
    const many: ReachInput = { timeoutSeconds: 2, targets: Array.from({ length: 5000 }, (_, i) => ({ id: `t${i}`, kind: "icmp", address: "10.0.0.1" })) };
    assert.deepEqual(probe.argv(many), probe.argv(input));
  });

  it("is the same for the host and the pod agent", () => {
    assert.deepEqual(podReachabilityProbe.argv(input), probe.argv(input));
    assert.equal(podReachabilityProbe.stdin!(input), probe.stdin!(input));
    assert.equal(hostReachabilityProbe.agent, "host");
    assert.equal(podReachabilityProbe.agent, "pod");
  });

  const rejected: [string, ReachInput][] = [
    ["a shell command in an address", { timeoutSeconds: 2, targets: [{ id: "x", kind: "icmp", address: "1.2.3.4; rm -rf /" }] }],
    ["an option as address", { timeoutSeconds: 2, targets: [{ id: "x", kind: "icmp", address: "-f" }] }],
    ["a host name", { timeoutSeconds: 2, targets: [{ id: "x", kind: "tcp", address: "example.com", port: 80 }] }],
    ["an id with a space", { timeoutSeconds: 2, targets: [{ id: "a b", kind: "icmp", address: "1.2.3.4" }] }],
    ["an id with $()", { timeoutSeconds: 2, targets: [{ id: "$(id)", kind: "icmp", address: "1.2.3.4" }] }],
    ["an upper-case id", { timeoutSeconds: 2, targets: [{ id: "Node1", kind: "icmp", address: "1.2.3.4" }] }],
    ["an empty id", { timeoutSeconds: 2, targets: [{ id: "", kind: "icmp", address: "1.2.3.4" }] }],
    [
      "a duplicate id",
      {
        timeoutSeconds: 2,
        targets: [
          { id: "a", kind: "icmp", address: "1.2.3.4" },
          { id: "a", kind: "icmp", address: "1.2.3.5" },
        ],
      },
    ],
    ["an interface that is an option", { timeoutSeconds: 2, targets: [{ id: "x", kind: "icmp", address: "1.2.3.4", iface: "-f" }] }],
    ["an interface with a slash", { timeoutSeconds: 2, targets: [{ id: "x", kind: "icmp", address: "1.2.3.4", iface: "../eth0" }] }],
    ["tcp without a port", { timeoutSeconds: 2, targets: [{ id: "x", kind: "tcp", address: "1.2.3.4" }] }],
    ["port 0", { timeoutSeconds: 2, targets: [{ id: "x", kind: "tcp", address: "1.2.3.4", port: 0 }] }],
    ["an unknown kind", { timeoutSeconds: 2, targets: [{ id: "x", kind: "udp" as "tcp", address: "1.2.3.4", port: 1 }] }],
    ["a fractional timeout", { timeoutSeconds: 1.5, targets: [] }],
    ["a zero timeout", { timeoutSeconds: 0, targets: [] }],
  ];
  for (const [what, bad] of rejected) {
    it(`rejects ${what}`, () => {
      assert.throws(() => probe.stdin!(bad), /reachability:/);
    });
  }
});

describe("reachability probe: parse", () => {
  const inputOf = (name: string) => JSON.parse(fixture(`reachability/${name}.input.json`)) as ReachInput;

  it("reads node → node over the underlay, in input order whatever order the agent finished in", () => {
    const input = inputOf("node-underlay");
    const results = probe.parse(fixture("reachability/node-underlay.txt"), input);
    assert.deepEqual(
      results.map((r) => r.id),
      input.targets.map((t) => t.id),
    );
    const byId = new Map(results.map((r) => [r.id, r]));
    assert.deepEqual(byId.get("peer-icmp"), { id: "peer-icmp", ok: true, rttMs: 1.26 });
    assert.equal(byId.get("peer-icmp-eth0")?.ok, true);
    assert.deepEqual(byId.get("unused-icmp"), { id: "unused-icmp", ok: false, error: "no reply (timeout)" });
    assert.deepEqual(byId.get("bad-iface-icmp"), { id: "bad-iface-icmp", ok: false, error: "socket: nosuch0: No such device" });
    assert.deepEqual(byId.get("peer-tcp:8080"), { id: "peer-tcp:8080", ok: true, rttMs: 1.088 });
    assert.deepEqual(byId.get("peer-tcp:8081"), { id: "peer-tcp:8081", ok: false, error: "connection refused or host unreachable" });
    assert.deepEqual(byId.get("unused-tcp:80"), { id: "unused-tcp:80", ok: false, error: "timeout" });
  });

  it("reads pod → remote pod network over VXLAN", () => {
    const results = probe.parse(fixture("reachability/pod-overlay.txt"), inputOf("pod-overlay"));
    assert.deepEqual(results, [
      { id: "remote-cni0", ok: true, rttMs: 38.608 },
      { id: "remote-unused", ok: false, error: "no reply (timeout)" },
      { id: "remote-http", ok: true, rttMs: 38.431 },
      { id: "remote-closed", ok: false, error: "connection refused or host unreachable" },
    ]);
  });

  const two: ReachInput = {
    timeoutSeconds: 1,
    targets: [
      { id: "a", kind: "icmp", address: "10.244.1.0" },
      { id: "b", kind: "tcp", address: "10.244.1.5", port: 80 },
    ],
  };

  it("reports a target without a result line as failed", () => {
    assert.deepEqual(probe.parse('{"id":"a","ok":true,"rttMs":0.2}\n', two), [
      { id: "a", ok: true, rttMs: 0.2 },
      { id: "b", ok: false, error: "no result" },
    ]);
  });

  it("says the agent's own errors as it said them", () => {
    const out = '{"id":"a","ok":false,"error":"socket: Operation not permitted"}\n{"id":"b","ok":false,"error":"unreachable"}\n';
    assert.deepEqual(
      probe.parse(out, two).map((r) => r.error),
      ["socket: Operation not permitted", "connection refused or host unreachable"],
    );
  });

  it("returns nothing for no targets", () => {
    assert.deepEqual(probe.parse("", { timeoutSeconds: 1, targets: [] }), []);
  });

  for (const bad of ["malformed/html-error.txt", "malformed/empty.txt", "malformed/truncated-json.txt"]) {
    it(`rejects ${bad}: the agent never answered`, () => {
      assert.throws(() => probe.parse(fixture(bad), two), ProbeOutputError);
    });
  }

  it("rejects unreadable result lines, unknown ids and bad times", () => {
    assert.throws(() => probe.parse("XNODE-RESULT a 0 0.2\n", two), /unreadable result line/);
    assert.throws(() => probe.parse('{"id":"a","ok":true}\n', two), /unreadable result line/);
    assert.throws(() => probe.parse('{"id":"c","ok":true,"rttMs":0.1}\n', two), /unknown target "c"/);
    assert.throws(() => probe.parse('{"id":"a","ok":true,"rttMs":"fast"}\n', two), /unreadable result line/);
  });
});

describe("reachability probe: runs for real between two network namespaces", () => {
  it("answers ok for a live address and listener, fails for a silent address and a closed port", async (t) => {
    assert.equal(process.getuid?.(), 0, "this test creates network namespaces and must run as root (it never skips)");
    const prefix = `xt-probe-${randomBytes(3).toString("hex")}`;
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];
    const ip = (...args: string[]) => run("ip", args);
    t.after(async () => {
      // deleting the namespaces also removes the veth pair
      for (const ns of [a, b]) await ip("netns", "del", ns).catch(() => undefined);
    });
    await ip("netns", "add", a);
    await ip("netns", "add", b);
    await ip("link", "add", "eth0", "netns", a, "type", "veth", "peer", "name", "eth0", "netns", b);
    for (const [ns, addr] of [
      [a, "192.168.77.1/24"],
      [b, "192.168.77.2/24"],
    ] as const) {
      await ip("-n", ns, "addr", "add", addr, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
      await ip("-n", ns, "link", "set", "lo", "up");
    }

    const server = spawn("ip", [
      "netns",
      "exec",
      b,
      "node",
      "-e",
      'require("http").createServer((q, s) => s.end("ok")).listen(8080, () => console.log("listening"))',
    ]);
    t.after(() => {
      server.kill();
    });
    await once(server.stdout, "data", { signal: AbortSignal.timeout(5000) });

    const input: ReachInput = {
      timeoutSeconds: 1,
      targets: [
        { id: "peer:icmp", kind: "icmp", address: "192.168.77.2", iface: "eth0" },
        { id: "silent:icmp", kind: "icmp", address: "192.168.77.9" },
        { id: "peer:8080", kind: "tcp", address: "192.168.77.2", port: 8080 },
        { id: "peer:8081", kind: "tcp", address: "192.168.77.2", port: 8081 },
      ],
    };
    const started = Date.now();
    const PATH = `${await agentBinaryDir()}${delimiter}${process.env.PATH ?? ""}`;
    const stdout = execFileSync("ip", ["netns", "exec", a, ...probe.argv(input)], {
      encoding: "utf8",
      input: probe.stdin!(input),
      env: { ...process.env, PATH },
    });
    const results = probe.parse(stdout, input);

    const [icmp, silent, http, closed] = results;
    assert.equal(icmp?.ok, true, `ping of the peer failed: ${icmp?.error}`);
    assert.ok(icmp.rttMs !== undefined && icmp.rttMs > 0);
    assert.deepEqual(silent, { id: "silent:icmp", ok: false, error: "no reply (timeout)" });
    assert.equal(http?.ok, true, `HTTP to the peer failed: ${http?.error}`);
    assert.ok(http.rttMs !== undefined && http.rttMs > 0);
    assert.deepEqual(closed, { id: "peer:8081", ok: false, error: "connection refused or host unreachable" });
    // targets run concurrently in one process: one timeout, not four
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });
});

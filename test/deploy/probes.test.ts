// The exec probes of the bot and worker (deploy/probes/*.mjs, copied into
// the image) decide restarts: check them against real sockets and a
// /proc/net/tcp captured from a pod.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "./render.js";

const probe = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(REPO, "deploy/probes", script), ...args], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 10_000 });

const listen = () =>
  new Promise<{ server: Server; port: number }>((resolve) => {
    const server = createServer((s) => s.destroy()).listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });

describe("redis-reachable.mjs", () => {
  it("exits 0 when REDIS_URL's host and port accept a connection", async () => {
    const { server, port } = await listen();
    try {
      assert.equal(probe("redis-reachable.mjs", [], { REDIS_URL: `redis://127.0.0.1:${port}` }).status, 0);
      assert.equal(probe("redis-reachable.mjs", [], { REDIS_URL: `rediss://:secret@127.0.0.1:${port}/0` }).status, 0, "password and TLS scheme are fine");
    } finally {
      server.close();
    }
  });

  it("exits 1 when nothing listens, and when REDIS_URL is garbage, without printing the URL", async () => {
    const { server, port } = await listen();
    server.close();
    await new Promise((r) => server.once("close", r));
    const refused = probe("redis-reachable.mjs", [], { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /ECONNREFUSED/);
    assert.doesNotMatch(refused.stderr, /hunter2/);
    assert.equal(probe("redis-reachable.mjs", [], { REDIS_URL: "not a url" }).status, 1);
  });
});

describe("slack-socket-connected.mjs", () => {
  // /proc/net/tcp and tcp6 lines; st 01 = ESTABLISHED, 0A = LISTEN; ports in hex (01BB = 443)
  const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
  const line = (remote: string, st: string) =>
    `   0: 0A00020F:A1B2 ${remote} ${st} 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 20 4 30 10 -1\n`;
  const procNet = (tcp: string, tcp6?: string) => {
    const dir = mkdtempSync(join(tmpdir(), "xnode-procnet-"));
    writeFileSync(join(dir, "tcp"), header + tcp);
    if (tcp6 !== undefined) writeFileSync(join(dir, "tcp6"), header + tcp6);
    return dir;
  };

  it("exits 0 with an established connection to port 443 (IPv4 or IPv6)", () => {
    assert.equal(probe("slack-socket-connected.mjs", [], { XNODE_PROC_NET: procNet(line("2207C8A3:01BB", "01")) }).status, 0);
    const v6 = line("0000000000000000FFFF00002207C8A3:01BB", "01");
    assert.equal(probe("slack-socket-connected.mjs", ["443"], { XNODE_PROC_NET: procNet("", v6) }).status, 0);
  });

  it("exits 1 when the only 443 connection is not established, or goes elsewhere", () => {
    const dir = procNet(line("2207C8A3:01BB", "08") + line("0A600001:18EB", "01"));
    const r = probe("slack-socket-connected.mjs", [], { XNODE_PROC_NET: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no established connection to port 443/);
  });

  it("accepts a proxy's port instead", () => {
    assert.equal(probe("slack-socket-connected.mjs", ["3128"], { XNODE_PROC_NET: procNet(line("0A000005:0C38", "01")) }).status, 0);
  });
});

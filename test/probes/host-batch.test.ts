// The host probes' batch: one exec, each command's output, exit code and
// first stderr line between markers. The fixture is the script's real output
// in a lab node's namespace (scratch: four commands, one failing, one missing).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { batchArgv, parseBatch } from "../../src/probes/host-batch.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const fixture = readFileSync(new URL("../fixtures/probes/host-batch/lab-node.txt", import.meta.url), "utf8");

describe("host batch", () => {
  it("is a fixed script with the commands as positional parameters", () => {
    const argv = batchArgv([
      { name: "routes", argv: ["ip", "-j", "route", "show"] },
      { name: "sysctls", argv: ["cat", "/proc/sys/net/ipv4/ip_forward"] },
    ]);
    assert.deepEqual(argv.slice(3), ["host-batch", "routes", "ip -j route show", "sysctls", "cat /proc/sys/net/ipv4/ip_forward"]);
    assert.equal(argv[2], batchArgv([{ name: "x", argv: ["true"] }])[2]);
  });

  it("refuses a command word the script would split or glob", () => {
    assert.throws(() => batchArgv([{ name: "x", argv: ["echo", "a b"] }]), /cannot run in a batch/);
    assert.throws(() => batchArgv([{ name: "x", argv: ["ls", "*"] }]), /cannot run in a batch/);
  });

  it("gives back each command's exact stdout, exit code and first stderr line", () => {
    const s = parseBatch(fixture);
    assert.deepEqual([...s.keys()], ["routes", "sysctls", "legacy", "missing"]);
    assert.equal(s.get("routes")!.exitCode, 0);
    assert.equal((JSON.parse(s.get("routes")!.stdout) as unknown[]).length, 5);
    assert.ok(s.get("routes")!.stdout.endsWith("]\n"), "the trailing newline is the command's own");
    assert.deepEqual(s.get("sysctls"), { exitCode: 1, stdout: "1\n", stderr: "cat: /nope: No such file or directory" });
    assert.deepEqual(s.get("legacy"), { exitCode: 0, stdout: "", stderr: "" });
    assert.equal(s.get("missing")!.exitCode, 127);
    assert.match(s.get("missing")!.stderr, /no-such-tool: not found/);
  });

  it("rejects output cut inside a section and text outside any", () => {
    assert.throws(() => parseBatch(fixture.slice(0, fixture.indexOf("XNODE-STDERR sysctls"))), ProbeOutputError);
    assert.throws(() => parseBatch("<html>502</html>\n"), ProbeOutputError);
    assert.equal(parseBatch("").size, 0);
  });
});

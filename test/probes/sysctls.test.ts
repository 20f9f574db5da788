import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ProbeOutputError } from "../../src/probes/probe.js";
import { sysctlsProbe } from "../../src/probes/sysctls.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");

describe("sysctls probe", () => {
  it("cats ip_forward and rp_filter, in that order", () => {
    assert.deepEqual(sysctlsProbe.argv(), ["cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/all/rp_filter"]);
  });

  it("reads a forwarding node with loose rp_filter", () => {
    assert.deepEqual(sysctlsProbe.parse(fixture("sysctls/healthy")), { ipForward: 1, rpFilterAll: 2 });
  });

  it("reads a node with forwarding off and strict rp_filter", () => {
    assert.deepEqual(sysctlsProbe.parse(fixture("sysctls/forward-disabled")), { ipForward: 0, rpFilterAll: 1 });
  });

  for (const bad of ["malformed/html-error", "malformed/empty"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => sysctlsProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects a missing line and non-integers", () => {
    assert.throws(() => sysctlsProbe.parse("1\n"), /expected 2 lines/);
    assert.throws(() => sysctlsProbe.parse("1\n2\n3\n"), /expected 2 lines/);
    assert.throws(() => sysctlsProbe.parse("1\nyes\n"), /"yes" is not an integer/);
    assert.throws(() => sysctlsProbe.parse("-1\n2\n"), ProbeOutputError);
  });
});

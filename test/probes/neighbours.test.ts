import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { neighboursProbe } from "../../src/probes/neighbours.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");

describe("neighbours probe", () => {
  it("runs ip -j neigh show", () => {
    assert.deepEqual(neighboursProbe.argv(), ["ip", "-j", "neigh", "show"]);
  });

  it("reads flannel's permanent entry and keeps the unresolved one", () => {
    const entries = neighboursProbe.parse(fixture("neighbours/healthy"));
    assert.deepEqual(
      entries.find((e) => e.dev === "flannel.1"),
      { dst: "10.244.1.0", dev: "flannel.1", lladdr: "0a:58:0a:f4:01:00", states: ["PERMANENT"] },
    );
    assert.deepEqual(
      entries.find((e) => e.dst === "192.168.56.199"),
      { dst: "192.168.56.199", dev: "eth0", lladdr: undefined, states: ["INCOMPLETE"] },
    );
    assert.equal(entries.find((e) => e.dst === "192.168.56.102")?.lladdr !== undefined, true);
  });

  it("reads an empty table", () => {
    assert.deepEqual(neighboursProbe.parse(fixture("neighbours/empty")), []);
  });

  for (const bad of ["malformed/truncated-json", "malformed/html-error", "malformed/empty"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => neighboursProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects a state that is not a list", () => {
    assert.throws(() => neighboursProbe.parse('[{"dst":"10.244.1.0","dev":"flannel.1","state":"PERMANENT"}]'), ProbeOutputError);
  });
});

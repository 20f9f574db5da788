import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fdbProbe } from "../../src/probes/fdb.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");

describe("fdb probe", () => {
  it("runs bridge -j fdb show", () => {
    assert.deepEqual(fdbProbe.argv(), ["bridge", "-j", "fdb", "show"]);
  });

  it("keeps only the VXLAN remote entry of a healthy node", () => {
    assert.deepEqual(fdbProbe.parse(fixture("fdb/healthy")), [{ mac: "0a:58:0a:f4:01:00", dev: "flannel.1", dst: "192.168.56.102", permanent: true }]);
  });

  it("shows the seed case: the peer's MAC sent to 10.0.2.15, the node's own address", () => {
    assert.deepEqual(fdbProbe.parse(fixture("fdb/duplicate-vtep")), [{ mac: "ba:7e:16:3c:00:0d", dev: "flannel.1", dst: "10.0.2.15", permanent: true }]);
  });

  it("reads an empty table", () => {
    assert.deepEqual(fdbProbe.parse(fixture("fdb/empty")), []);
  });

  it("marks learned (non-permanent) entries", () => {
    const [entry] = fdbProbe.parse('[{"mac":"aa:bb:cc:dd:ee:ff","ifname":"vxlan0","dst":"192.168.56.9","flags":[],"state":""}]');
    assert.equal(entry?.permanent, false);
  });

  for (const bad of ["malformed/truncated-json", "malformed/html-error", "malformed/empty"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => fdbProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects a remote entry without a MAC", () => {
    assert.throws(() => fdbProbe.parse('[{"ifname":"flannel.1","dst":"192.168.56.102"}]'), /"mac" is missing/);
  });
});

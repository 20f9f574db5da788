import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { addressesProbe } from "../../src/probes/addresses.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");

describe("addresses probe", () => {
  it("runs ip -j addr show", () => {
    assert.deepEqual(addressesProbe.argv(), ["ip", "-j", "addr", "show"]);
  });

  it("reads a healthy node: underlay, flannel.1 /32, cni0, IPv4 only", () => {
    const ifaces = addressesProbe.parse(fixture("addresses/healthy"));
    assert.deepEqual(
      ifaces.map((i) => i.name),
      ["lo", "eth0", "flannel.1", "cni0", "veth0"],
    );
    const byName = new Map(ifaces.map((i) => [i.name, i]));
    assert.deepEqual(byName.get("eth0")?.addresses, [{ address: "192.168.56.101", prefixLength: 24 }]);
    assert.deepEqual(byName.get("flannel.1")?.addresses, [{ address: "10.244.0.0", prefixLength: 32 }]);
    assert.equal(byName.get("flannel.1")?.mtu, 1450);
    assert.equal(byName.get("flannel.1")?.mac, "0a:58:0a:f4:00:00");
    assert.equal(byName.get("flannel.1")?.up, true);
    assert.equal(byName.get("flannel.1")?.carrier, true);
    assert.equal(byName.get("flannel.1")?.kind, undefined, "plain ip -j addr has no linkinfo");
    assert.equal(byName.get("eth0")?.mtu, 1500);
    assert.equal(byName.get("veth0")?.addresses.length, 0);
    // loopback's all-zero "address" is not a MAC worth reporting
    assert.equal(byName.get("lo")?.mac, undefined);
    assert.deepEqual(byName.get("lo")?.addresses, [{ address: "127.0.0.1", prefixLength: 8 }]);
  });

  it("reads the seed node: 10.0.2.15 on enp0s3 next to the host-only enp0s8", () => {
    const byName = new Map(addressesProbe.parse(fixture("addresses/duplicate-vtep")).map((i) => [i.name, i]));
    assert.deepEqual(byName.get("enp0s3")?.addresses, [{ address: "10.0.2.15", prefixLength: 24 }]);
    assert.deepEqual(byName.get("enp0s8")?.addresses, [{ address: "192.168.56.101", prefixLength: 24 }]);
  });

  it("reads a pod's view: eth0 with the pod IP and the flannel MTU", () => {
    const eth0 = addressesProbe.parse(fixture("addresses/pod")).find((i) => i.name === "eth0");
    assert.equal(eth0?.mtu, 1450);
    assert.deepEqual(eth0?.addresses, [{ address: "10.244.0.2", prefixLength: 24 }]);
  });

  for (const bad of ["malformed/truncated-json", "malformed/html-error", "malformed/empty"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => addressesProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects a field of the wrong type by name, not with a TypeError", () => {
    assert.throws(
      () => addressesProbe.parse('[{"ifindex":"2","ifname":"eth0","mtu":1500}]'),
      (err: unknown) => err instanceof ProbeOutputError && /"ifindex" should be a number/.test(err.message),
    );
    assert.throws(() => addressesProbe.parse("[null]"), ProbeOutputError);
    assert.throws(() => addressesProbe.parse('[{"ifindex":2,"ifname":"eth0","mtu":1500,"addr_info":[1]}]'), ProbeOutputError);
    assert.throws(() => addressesProbe.parse('{"error":"no"}'), ProbeOutputError);
  });
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ProbeOutputError } from "../../src/probes/probe.js";
import { vxlanDevicesProbe } from "../../src/probes/vxlan-devices.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");

describe("vxlan-devices probe", () => {
  it("runs ip -j -d link show type vxlan", () => {
    assert.deepEqual(vxlanDevicesProbe.argv(), ["ip", "-j", "-d", "link", "show", "type", "vxlan"]);
  });

  it("reads flannel.1 on a healthy node", () => {
    assert.deepEqual(vxlanDevicesProbe.parse(fixture("vxlan-devices/healthy")), [
      {
        name: "flannel.1",
        vni: 1,
        local: "192.168.56.101",
        underlay: "eth0",
        port: 8472,
        learning: false,
        mtu: 1450,
        mac: "0a:58:0a:f4:00:00",
        up: true,
      },
    ]);
  });

  it("reads the seed case: VTEP on the NAT address 10.0.2.15 via enp0s3", () => {
    const [dev] = vxlanDevicesProbe.parse(fixture("vxlan-devices/duplicate-vtep"));
    assert.equal(dev?.local, "10.0.2.15");
    assert.equal(dev?.underlay, "enp0s3");
  });

  it("reads a second, learning device on the IANA port without a local address", () => {
    const devices = vxlanDevicesProbe.parse(fixture("vxlan-devices/two-devices"));
    assert.equal(devices.length, 2);
    const vxlan0 = devices.find((d) => d.name === "vxlan0");
    assert.equal(vxlan0?.vni, 42);
    assert.equal(vxlan0?.port, 4789);
    assert.equal(vxlan0?.learning, true);
    assert.equal(vxlan0?.local, undefined);
    assert.equal(vxlan0?.underlay, "enp0s8");
    assert.equal(vxlan0?.up, false);
  });

  it('reads "[]" (what ip prints with no devices) as no devices', () => {
    assert.equal(fixture("vxlan-devices/no-devices").trim(), "[]");
    assert.deepEqual(vxlanDevicesProbe.parse(fixture("vxlan-devices/no-devices")), []);
  });

  for (const bad of ["malformed/truncated-json", "malformed/html-error", "malformed/empty"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => vxlanDevicesProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects output without linkinfo (run without -d)", () => {
    const plain = fixture("addresses/healthy");
    assert.throws(() => vxlanDevicesProbe.parse(plain), /"linkinfo" is missing/);
  });
});

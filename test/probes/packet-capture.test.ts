import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { isXnodeError } from "../../src/errors.js";
import { captureFilters, packetCaptureProbe } from "../../src/probes/packet-capture.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/probes/packet-capture/${name}.txt`, import.meta.url), "utf8");
const points = [
  { iface: "veth-a", filter: "icmp and src host 10.99.0.1 and dst host 10.99.0.2" },
  { iface: "lo", filter: "icmp and src host 10.99.0.1 and dst host 10.99.0.2" },
  { iface: "flannel.1", filter: "icmp" },
];
const input = { seconds: 2, maxPackets: 5, points };

describe("packet-capture probe", () => {
  it("passes interfaces and filters as positional parameters of a fixed script", () => {
    const argv = packetCaptureProbe.argv(input);
    assert.deepEqual(argv.slice(0, 2), ["sh", "-c"]);
    assert.deepEqual(argv.slice(3), ["packet-capture", "2", "5", "veth-a", points[0]!.filter, "lo", points[1]!.filter, "flannel.1", "icmp"]);
    assert.ok(!argv[2]!.includes("10.99.0.1"), "no address inside the script");
  });

  it("reads real captures: packets seen, none seen, and a device that does not exist", () => {
    assert.deepEqual(packetCaptureProbe.parse(fixture("seen-missing-device"), input), [
      { iface: "veth-a", packets: 3, first: "07:59:30.841256 IP 10.99.0.1 > 10.99.0.2: ICMP echo request, id 10968, seq 1, length 64" },
      { iface: "lo", packets: 0 },
      { iface: "flannel.1", packets: 0, error: "tcpdump: flannel.1: No such device exists" },
    ]);
  });

  it("an agent without tcpdump says so for every point", () => {
    const results = packetCaptureProbe.parse(fixture("no-tcpdump"), input);
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => r.packets === 0 && r.error === "tcpdump is not installed in the agent"));
  });

  it("output missing a point is an error, not 'nothing seen'", () => {
    assert.throws(() => packetCaptureProbe.parse("XNODE-CAPTURE veth-a 3\n", input), ProbeOutputError);
    assert.throws(() => packetCaptureProbe.parse("", input), ProbeOutputError);
  });

  it("refuses interface names and filters xnode would never produce", () => {
    const bad = (p: { iface: string; filter: string }) => () => packetCaptureProbe.argv({ ...input, points: [p] });
    for (const f of [
      bad({ iface: "-i", filter: "icmp" }),
      bad({ iface: "eth0; reboot", filter: "icmp" }),
      bad({ iface: "eth0", filter: "icmp $(reboot)" }),
      bad({ iface: "eth0", filter: "icmp' or '1" }),
    ]) {
      assert.throws(f, (err: unknown) => isXnodeError(err) && err.code === "PROBE_INPUT_INVALID");
    }
    assert.throws(() => packetCaptureProbe.argv({ ...input, seconds: 0 }), /seconds/);
    assert.throws(() => packetCaptureProbe.argv({ ...input, points: [] }), /no capture points/);
  });
});

describe("captureFilters", () => {
  it("matches the probe itself on the overlay and the VXLAN packets carrying it on the underlay", () => {
    assert.deepEqual(captureFilters("10.244.0.2", "10.244.1.2", 8472), {
      inner: "icmp and src host 10.244.0.2 and dst host 10.244.1.2",
      vxlan: "udp dst port 8472 and udp[39:1] = 1 and udp[42:4] = 0x0af40002 and udp[46:4] = 0x0af40102",
    });
    assert.match(captureFilters("10.0.0.1", "10.0.0.2", 4789).vxlan, /^udp dst port 4789 /);
  });

  it("refuses anything but IPv4 addresses and a port", () => {
    assert.throws(() => captureFilters("fd00::1", "10.0.0.1", 8472), /IPv4/);
    assert.throws(() => captureFilters("10.0.0.1", "10.0.0.2", 0), /port/);
  });
});

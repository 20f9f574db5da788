// flanneld's interface choice imitated on real `ip -j addr` / `ip -j route`
// output (test/fixtures/probes/capture-secondary-address.sh): enp0s3 holds the
// default route (10.0.2.15), enp0s8 holds 192.168.60.100 and 192.168.56.101.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { flannelIfaceChoice } from "../../src/diagnosis/flannel-iface-choice.js";
import type { FlannelFlag, HostEvidence, NodeSnapshot } from "../../src/model/index.js";
import { addressesProbe } from "../../src/probes/addresses.js";
import { routesProbe } from "../../src/probes/routes.js";

const fixture = (p: string) => readFileSync(new URL(`../fixtures/probes/${p}`, import.meta.url), "utf8");
const host: HostEvidence = {
  node: "n1",
  interfaces: addressesProbe.parse(fixture("addresses/secondary-address.txt"), undefined),
  routes: routesProbe.parse(fixture("routes/secondary-address.txt"), undefined),
  errors: [],
};
const node = (nodePublicIP?: string): NodeSnapshot => ({ name: "n1", ready: true, flannel: nodePublicIP ? { nodePublicIP } : {} });
const flag = (name: string, ...values: string[]): FlannelFlag => ({ name, values, source: "args", from: `args --${name}` });
const choose = (flags: FlannelFlag[], publicIP?: string) => {
  const c = flannelIfaceChoice(flags, node(publicIP), host);
  return [c.iface, c.address, c.external];
};

describe("flanneld's interface choice", () => {
  test("no flags: the default route's interface and its first address (the seed's 10.0.2.15)", () => {
    assert.deepEqual(choose([]), ["enp0s3", "10.0.2.15", "10.0.2.15"]);
  });

  test("--iface by name takes the interface's first IPv4 address; by IP, that address on the interface holding it", () => {
    assert.deepEqual(choose([flag("iface", "enp0s8")]), ["enp0s8", "192.168.60.100", "192.168.60.100"]);
    assert.deepEqual(choose([flag("iface", "192.168.56.101")]), ["enp0s8", "192.168.56.101", "192.168.56.101"]);
  });

  test("several --iface are tried in order; a missing one is skipped", () => {
    assert.deepEqual(choose([flag("iface", "eth1", "enp0s8")]), ["enp0s8", "192.168.60.100", "192.168.60.100"]);
  });

  test("--iface-regex matches EVERY IPv4 address of an interface, not only the first", () => {
    assert.deepEqual(choose([flag("iface-regex", "^192\\.168\\.56\\.")]), ["enp0s8", "192.168.56.101", "192.168.56.101"]);
  });

  test("--iface-regex falls back to interface names; --iface is tried before it", () => {
    assert.deepEqual(choose([flag("iface-regex", "^enp0s3$")]), ["enp0s3", "10.0.2.15", "10.0.2.15"]);
    assert.deepEqual(choose([flag("iface", "enp0s3"), flag("iface-regex", "^192\\.168\\.56\\.")]), ["enp0s3", "10.0.2.15", "10.0.2.15"]);
  });

  test("--iface-can-reach: the interface of the most specific route to it", () => {
    assert.deepEqual(choose([flag("iface-can-reach", "192.168.56.102")]), ["enp0s8", "192.168.60.100", "192.168.60.100"]);
    assert.deepEqual(choose([flag("iface-can-reach", "8.8.8.8")]), ["enp0s3", "10.0.2.15", "10.0.2.15"]);
  });

  test("node-public-ip (or --public-ip) selects the interface holding it when no interface flag is given, and is the external address", () => {
    assert.deepEqual(choose([], "192.168.56.101"), ["enp0s8", "192.168.56.101", "192.168.56.101"]);
    assert.deepEqual(choose([flag("public-ip", "192.168.56.101")]), ["enp0s8", "192.168.56.101", "192.168.56.101"]);
    // with --iface, the public IP only changes what flannel advertises
    assert.deepEqual(choose([flag("iface", "enp0s3")], "192.168.56.101"), ["enp0s3", "10.0.2.15", "192.168.56.101"]);
  });

  test("nothing matches: no interface, and why (flanneld exits)", () => {
    const c = flannelIfaceChoice([flag("iface", "eth9"), flag("iface-regex", "^172\\.")], node(), host);
    assert.equal(c.iface, undefined);
    assert.equal(c.how, "no interface matches --iface=eth9, --iface-regex=^172\\.");
    assert.equal(flannelIfaceChoice([], node("203.0.113.5"), host).how, "no interface holds public IP 203.0.113.5");
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { cidrContains, cidrCovers, cidrsOverlap, networkAddress, parseCidr, parseIpv4, sameSubnet, subnetOf } from "../../src/diagnosis/ipv4.js";

test("parsing", () => {
  assert.equal(parseIpv4("192.168.56.101"), 0xc0a83865);
  assert.equal(parseIpv4("256.1.1.1"), undefined);
  assert.equal(parseIpv4("10.0.2"), undefined);
  assert.deepEqual(parseCidr("10.244.1.7/24"), { network: 0x0af40100, prefixLength: 24 });
  assert.deepEqual(parseCidr("10.244.1.7"), { network: 0x0af40107, prefixLength: 32 });
  assert.deepEqual(parseCidr("default"), { network: 0, prefixLength: 0 });
  assert.equal(parseCidr("10.0.0.0/33"), undefined);
});

test("containment and subnets", () => {
  assert.ok(cidrContains("10.244.0.0/16", "10.244.200.3"));
  assert.ok(!cidrContains("10.244.0.0/16", "10.245.0.1"));
  assert.ok(cidrContains("default", "203.0.113.9"));
  assert.ok(cidrCovers("10.244.0.0/16", "10.244.1.0/24") && !cidrCovers("10.244.1.0/24", "10.244.0.0/16"));
  assert.ok(cidrsOverlap("10.244.1.0/24", "10.244.0.0/16") && !cidrsOverlap("10.244.1.0/24", "10.244.2.0/24"));
  assert.ok(sameSubnet("192.168.56.101", "192.168.56.102", 24) && !sameSubnet("10.0.2.15", "10.0.3.15", 24));
  assert.equal(networkAddress("10.244.1.0/24"), "10.244.1.0");
  assert.equal(subnetOf("172.31.20.9", 20), "172.31.16.0/20");
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ProbeOutputError } from "../../src/probes/probe.js";
import { routesProbe } from "../../src/probes/routes.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");

describe("routes probe", () => {
  it("runs ip -j route show", () => {
    assert.deepEqual(routesProbe.argv(), ["ip", "-j", "route", "show"]);
  });

  it("reads flannel's onlink route to the remote pod CIDR", () => {
    const routes = routesProbe.parse(fixture("routes/healthy"));
    assert.deepEqual(
      routes.find((r) => r.dst === "10.244.1.0/24"),
      {
        dst: "10.244.1.0/24",
        type: undefined,
        gateway: "10.244.1.0",
        dev: "flannel.1",
        onlink: true,
        protocol: undefined,
        scope: undefined,
        prefsrc: undefined,
      },
    );
    const local = routes.find((r) => r.dst === "10.244.0.0/24");
    assert.equal(local?.dev, "cni0");
    assert.equal(local?.onlink, false);
    assert.equal(local?.protocol, "kernel");
    assert.equal(local?.scope, "link");
    assert.equal(local?.prefsrc, "10.244.0.1");
    const def = routes.find((r) => r.dst === "default");
    assert.equal(def?.gateway, "192.168.56.1");
    assert.equal(def?.dev, "eth0");
  });

  it("reads the seed node's default route through the NAT interface", () => {
    const def = routesProbe.parse(fixture("routes/duplicate-vtep")).find((r) => r.dst === "default");
    assert.equal(def?.dev, "enp0s3");
    assert.equal(def?.gateway, "10.0.2.2");
  });

  it("reads an empty table", () => {
    assert.deepEqual(routesProbe.parse(fixture("routes/empty")), []);
  });

  it("keeps the type of non-unicast routes", () => {
    const [route] = routesProbe.parse('[{"type":"blackhole","dst":"10.244.1.0/24","flags":[]}]');
    assert.equal(route?.type, "blackhole");
    assert.equal(route?.dev, undefined);
  });

  for (const bad of ["malformed/truncated-json", "malformed/html-error", "malformed/empty"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => routesProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects a route without dst or with non-string flags", () => {
    assert.throws(() => routesProbe.parse('[{"dev":"eth0"}]'), /"dst" is missing/);
    assert.throws(() => routesProbe.parse('[{"dst":"default","flags":[1]}]'), ProbeOutputError);
  });
});

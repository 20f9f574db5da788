// Version-2 node fields and faults (lab-scenarios/README.md "Additions"), in a
// running lab built from each bundled scenario: Node annotations that flannel
// reads (public-ip-overwrite, node-public-ip), secondary addresses, and the
// cni0-address and vtep-mac-change faults, each proven by what the kernel
// holds and by which pod pairs answer. Needs root; fails, never skips.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { chooseInterface } from "../src/dataplane/flannel.js";
import { parseScenario } from "../src/scenario.js";
import { requireLabPrerequisites, type StartedLab, withLab } from "../src/testing.js";
import { assertMatrix, out, podMatrix } from "./net-probes.js";

const ANN = "flannel.alpha.coreos.com/";

const annotationsOf = (l: StartedLab, node: string) => l.lab.store.get("Node", undefined, node)!.metadata.annotations!;
const vtepMacOf = (l: StartedLab, node: string) => (JSON.parse(annotationsOf(l, node)[`${ANN}backend-data`]!) as { VtepMAC: string }).VtepMAC;

interface VxlanLink {
  address: string;
  linkinfo: { info_data: { local: string; link?: string } };
}
async function vxlanLink(netns: string): Promise<VxlanLink> {
  return (JSON.parse(await out(netns, ["ip", "-j", "-d", "link", "show", "flannel.1"])) as VxlanLink[])[0]!;
}
async function fdb(netns: string): Promise<{ mac: string; dst: string }[]> {
  return JSON.parse(await out(netns, ["bridge", "-j", "fdb", "show", "dev", "flannel.1"])) as { mac: string; dst: string }[];
}

describe("interface choice with secondary addresses and node-public-ip (pure)", () => {
  const node = parseScenario({
    name: "t",
    networks: [
      { name: "nat", cidr: "10.0.2.0/24" },
      { name: "lan", cidr: "192.168.56.0/24" },
    ],
    nodes: [
      {
        name: "a",
        interfaces: [
          { name: "enp0s3", network: "nat", address: "10.0.2.15/24", defaultRoute: true },
          { name: "enp0s8", network: "lan", address: "192.168.56.11/24", extraAddresses: ["192.168.56.100/24"] },
        ],
      },
    ],
    flannel: { network: "10.244.0.0/16" },
  }).nodes[0]!;
  const pick = (args: string[], publicIP?: string) => chooseInterface(node, args, { publicIP });

  test("--iface-regex matches a secondary address, and that address is the one flannel uses", () => {
    assert.deepEqual(pick(["--iface-regex=^192\\.168\\.56\\.100$"]), { ok: true, iface: "enp0s8", address: "192.168.56.100" });
  });
  test("--iface=<secondary IP> picks the interface holding it and that address", () => {
    assert.deepEqual(pick(["--iface=192.168.56.100"]), { ok: true, iface: "enp0s8", address: "192.168.56.100" });
  });
  test("--iface=<name> uses the interface's first address", () => {
    assert.deepEqual(pick(["--iface=enp0s8"]), { ok: true, iface: "enp0s8", address: "192.168.56.11" });
  });
  test("node-public-ip without flags picks the interface holding it; with flags it is the external address", () => {
    assert.deepEqual(pick([], "192.168.56.11"), { ok: true, iface: "enp0s8", address: "192.168.56.11" });
    assert.deepEqual(pick(["--iface=enp0s3"], "192.168.56.11"), { ok: true, iface: "enp0s3", address: "192.168.56.11" });
    const none = pick([], "192.168.99.1");
    assert.equal(none.ok, false);
    assert.match(!none.ok ? none.error : "", /Failed to find any valid interface to use/);
  });
});

describe("version-2 node fields and faults in a running lab (real namespaces, needs root)", () => {
  before(() => requireLabPrerequisites());

  test("public-ip-overwrite-wrong: flannel advertises the overwrite; peers send w1's VXLAN to an address nobody has", async () => {
    await withLab("public-ip-overwrite-wrong", async (l) => {
      const topo = l.lab.topology;
      assert.equal(annotationsOf(l, "w1")[`${ANN}public-ip`], "192.168.70.250");
      assert.equal(annotationsOf(l, "w1")[`${ANN}public-ip-overwrite`], "192.168.70.250");
      // w1's own VTEP still sits on its real address; cp's FDB entry for w1 points at the overwrite.
      assert.equal((await vxlanLink(topo.nodes.w1!.netns)).linkinfo.info_data.local, "192.168.70.11");
      const toW1 = (await fdb(topo.nodes.cp!.netns)).find((e) => e.mac === vtepMacOf(l, "w1"));
      assert.equal(toW1?.dst, "192.168.70.250");
      assertMatrix(await podMatrix(topo), (a, b) => a !== "w1" && b !== "w1");
    });
  });

  test("node-public-ip-vip: the annotated address picks enp0s8 over the default route; the VIP is a real secondary address", async () => {
    await withLab("node-public-ip-vip", async (l) => {
      const topo = l.lab.topology;
      const link = await vxlanLink(topo.nodes.cp!.netns);
      assert.equal(link.linkinfo.info_data.local, "192.168.73.10");
      assert.equal(annotationsOf(l, "cp")[`${ANN}public-ip`], "192.168.73.10");
      assert.equal(annotationsOf(l, "w1")[`${ANN}public-ip`], "192.168.73.11");
      const addrs = JSON.parse(await out(topo.nodes.cp!.netns, ["ip", "-j", "-4", "addr", "show", "dev", "enp0s8"])) as {
        addr_info: { local: string; prefixlen: number; secondary?: boolean }[];
      }[];
      assert.deepEqual(
        addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}${a.secondary ? " secondary" : ""}`),
        ["192.168.73.10/24", "192.168.73.100/24 secondary"],
      );
      assertMatrix(await podMatrix(topo), () => true);
    });
  });

  test("cni0-address-mismatch: cni0 holds only the old podCIDR's address; w1's pods are cut off, the rest works", async () => {
    await withLab("cni0-address-mismatch", async (l) => {
      const w1 = l.lab.topology.nodes.w1!;
      const addrs = JSON.parse(await out(w1.netns, ["ip", "-j", "-4", "addr", "show", "dev", "cni0"])) as {
        addr_info: { local: string; prefixlen: number }[];
      }[];
      assert.deepEqual(
        addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
        ["10.244.9.1/24"],
      );
      assert.equal((await out(w1.netns, ["ip", "route", "show", "10.244.1.0/24"])).trim(), "");
      assertMatrix(await podMatrix(l.lab.topology), (a, b) => a !== "w1" && b !== "w1");
    });
  });

  test("vtep-mac-change: flannel.1's MAC differs from its VtepMAC annotation and from every peer's entries", async () => {
    await withLab("vtep-mac-change", async (l) => {
      const topo = l.lab.topology;
      const annotated = vtepMacOf(l, "w1");
      const actual = (await vxlanLink(topo.nodes.w1!.netns)).address;
      assert.notEqual(actual, annotated);
      for (const peer of ["cp", "w2"]) {
        const macs = (await fdb(topo.nodes[peer]!.netns)).map((e) => e.mac);
        assert.ok(macs.includes(annotated) && !macs.includes(actual), `${peer}: ${macs.join(", ")}`);
        const neigh = await out(topo.nodes[peer]!.netns, ["ip", "neigh", "show", "10.244.1.0", "dev", "flannel.1"]);
        assert.match(neigh, new RegExp(`lladdr ${annotated} PERMANENT`));
      }
      assertMatrix(await podMatrix(topo), (a, b) => a !== "w1" && b !== "w1");
    });
  });
});

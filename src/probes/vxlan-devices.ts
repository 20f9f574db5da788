// VXLAN devices with their parameters (`ip -j -d link show type vxlan`):
// flannel.1's local (VTEP) address, underlay device, UDP port and learning.
import type { VxlanDevice } from "../model/index.js";
import { readJsonObjects, type JsonFields } from "./json-fields.js";
import type { Probe } from "./probe.js";

const name = "vxlan-devices";

function toDevice(link: JsonFields): VxlanDevice {
  // -d is what adds linkinfo; without it the VXLAN parameters are not there
  const data = link.object("linkinfo").object("info_data");
  return {
    name: link.string("ifname"),
    vni: data.number("id"),
    local: data.optString("local"),
    underlay: data.optString("link"),
    port: data.number("port"),
    // (inferred) older iproute2 printed "learning" only when it was off; the kernel default is on
    learning: data.optBoolean("learning") ?? true,
    mtu: link.number("mtu"),
    mac: link.optString("address"),
    up: link.strings("flags").includes("UP"),
  };
}

export const vxlanDevicesProbe: Probe<void, VxlanDevice[]> = {
  name,
  agent: "host",
  argv: () => ["ip", "-j", "-d", "link", "show", "type", "vxlan"],
  // no devices prints "[]", so empty output is an error like any other unreadable output
  parse: (stdout) => readJsonObjects(name, stdout).map(toDevice),
};

// Interfaces and their IPv4 addresses (`ip -j addr show`): where the VTEP
// address lives, which interface holds 10.0.2.15, MTUs of underlay and cni0.
import type { InterfaceInfo } from "../model/index.js";
import { readJsonObjects, type JsonFields } from "./json-fields.js";
import type { Probe } from "./probe.js";

const name = "addresses";

function toInterface(link: JsonFields): InterfaceInfo {
  const flags = link.strings("flags");
  return {
    name: link.string("ifname"),
    index: link.number("ifindex"),
    mtu: link.number("mtu"),
    up: flags.includes("UP"),
    carrier: flags.includes("LOWER_UP"),
    // loopback and tunnels print other things (zeros, an IP) in "address"
    mac: link.optString("link_type") === "ether" ? link.optString("address") : undefined,
    // only present when run with -d; plain `ip -j addr` leaves it out
    kind: link.optObject("linkinfo")?.optString("info_kind"),
    addresses: link
      .objects("addr_info")
      .filter((a) => a.optString("family") === "inet")
      .map((a) => ({ address: a.string("local"), prefixLength: a.number("prefixlen") })),
  };
}

export const addressesProbe: Probe<void, InterfaceInfo[]> = {
  name,
  agent: "host",
  argv: () => ["ip", "-j", "addr", "show"],
  parse: (stdout) => readJsonObjects(name, stdout).map(toInterface),
};

// The main routing table (`ip -j route show`): is there a route for every
// remote pod CIDR, through flannel.1 or (host-gw / static fix) the underlay?
import type { RouteEntry } from "../model/index.js";
import { readJsonObjects, type JsonFields } from "./json-fields.js";
import type { Probe } from "./probe.js";

const name = "routes";

export function routeOf(route: JsonFields): RouteEntry {
  return {
    dst: route.string("dst"),
    // unicast routes carry no "type"; a blackhole for a pod CIDR must not count as a route
    type: route.optString("type"),
    gateway: route.optString("gateway"),
    dev: route.optString("dev"),
    onlink: route.strings("flags").includes("onlink"),
    protocol: route.optString("protocol"),
    scope: route.optString("scope"),
    prefsrc: route.optString("prefsrc"),
  };
}

export const routesProbe: Probe<void, RouteEntry[]> = {
  name,
  agent: "host",
  argv: () => ["ip", "-j", "route", "show"],
  parse: (stdout) => readJsonObjects(name, stdout).map(routeOf),
};

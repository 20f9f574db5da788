// VXLAN forwarding entries (`bridge -j fdb show`): which VTEP address each
// remote flannel.1 MAC is sent to. Entries without "dst" (bridge ports, the
// kernel's own MACs, multicast) say nothing about peers and are dropped.
import type { FdbEntry } from "../model/index.js";
import { readJsonObjects, type JsonFields } from "./json-fields.js";
import type { Probe } from "./probe.js";

const name = "fdb";

export function fdbEntryOf(entry: JsonFields): FdbEntry | undefined {
  const dst = entry.optString("dst");
  if (dst === undefined) return undefined;
  return {
    mac: entry.string("mac"),
    dev: entry.string("ifname"),
    dst,
    permanent: entry.optString("state") === "permanent",
  };
}

export const fdbProbe: Probe<void, FdbEntry[]> = {
  name,
  agent: "host",
  argv: () => ["bridge", "-j", "fdb", "show"],
  parse: (stdout) =>
    readJsonObjects(name, stdout)
      .map(fdbEntryOf)
      .filter((e): e is FdbEntry => e !== undefined),
};

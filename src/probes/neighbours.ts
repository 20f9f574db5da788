// Neighbour (ARP) entries (`ip -j neigh show`): flannel's permanent entries
// mapping each remote flannel.1 address to its VTEP MAC, and unresolved ones.
import type { NeighbourEntry } from "../model/index.js";
import { readJsonObjects, type JsonFields } from "./json-fields.js";
import type { Probe } from "./probe.js";

const name = "neighbours";

export function neighbourOf(entry: JsonFields): NeighbourEntry {
  return {
    dst: entry.string("dst"),
    dev: entry.string("dev"),
    // FAILED and INCOMPLETE entries have no lladdr: kept, they show what could not be resolved
    lladdr: entry.optString("lladdr"),
    states: entry.strings("state"),
  };
}

export const neighboursProbe: Probe<void, NeighbourEntry[]> = {
  name,
  agent: "host",
  argv: () => ["ip", "-j", "neigh", "show"],
  parse: (stdout) => readJsonObjects(name, stdout).map(neighbourOf),
};

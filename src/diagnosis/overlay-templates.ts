// A node's per-peer overlay entries as templates (model: overlayTemplateSchema).
// Compaction is lossless: an entry is taken out only when filling the
// template with the peer's values gives back exactly its JSON, and only when
// it is the one entry of its kind for that destination, so lookups by
// destination find the same entry as in the full lists. What differs from
// flannel's pattern (a missing, extra, stale or foreign entry) stays in the
// lists as read, where the rules see it.
import type { CheckEvidence, ClusterSnapshot, FdbEntry, HostEvidence, NeighbourEntry, NodeSnapshot, OverlayTemplate, RouteEntry } from "../model/index.js";
import { memoized, nodeNamed } from "./cluster-view.js";
import { networkAddress } from "./ipv4.js";

export interface PeerEntries {
  route: RouteEntry;
  neighbour: NeighbourEntry;
  fdb: FdbEntry;
}

type PeerValues = Record<"cidr" | "gw" | "mac" | "ip", string> & { lowerMac: string };

function valuesOf(peer: NodeSnapshot): PeerValues | undefined {
  const { podCIDR } = peer;
  const gw = podCIDR && networkAddress(podCIDR);
  const { vtepMac, publicIP } = peer.flannel;
  return podCIDR && gw && vtepMac && publicIP ? { cidr: podCIDR, gw, mac: vtepMac, ip: publicIP, lowerMac: vtepMac.toLowerCase() } : undefined;
}

// Every host of a check is compacted against the same snapshot: its peers' values once.
const snapshotValues = new WeakMap<ClusterSnapshot, (PeerValues | undefined)[]>();
function valuesIn(snapshot: ClusterSnapshot): (PeerValues | undefined)[] {
  let values = snapshotValues.get(snapshot);
  if (!values) snapshotValues.set(snapshot, (values = snapshot.nodes.map(valuesOf)));
  return values;
}

const KEYS = ["cidr", "gw", "mac", "ip"] as const;
type Placeholder = `{${(typeof KEYS)[number]}}`;
const PLACEHOLDERS = new Map<string, (typeof KEYS)[number]>(KEYS.map((k) => [`{${k}}`, k]));

type Entry = Record<string, unknown>;

/** The entry with each field that holds one of the peer's values replaced by that value's placeholder. */
function templateOf(entry: Entry, values: PeerValues): Entry | undefined {
  const out: Entry = {};
  for (const [field, value] of Object.entries(entry)) {
    // a field that already reads like a placeholder could not be told apart when filled in
    if (typeof value === "string" && PLACEHOLDERS.has(value)) return undefined;
    const key = KEYS.find((k) => values[k] === value);
    out[field] = key ? (`{${key}}` satisfies Placeholder) : value;
  }
  return out;
}

function fill(template: Entry, values: PeerValues): Entry {
  const out: Entry = {};
  for (const [field, value] of Object.entries(template)) {
    const key = typeof value === "string" ? PLACEHOLDERS.get(value) : undefined;
    out[field] = key ? values[key] : value;
  }
  return out;
}

/** Whether filling `template` with `values` gives `entry`, field by field and in the same order. */
function fits(template: Entry, entry: Entry, values: PeerValues): boolean {
  const fields = Object.keys(template);
  const own = Object.keys(entry);
  if (fields.length !== own.length) return false;
  return fields.every((field, i) => {
    if (own[i] !== field) return false;
    const t = template[field];
    const key = typeof t === "string" ? PLACEHOLDERS.get(t) : undefined;
    const v = entry[field];
    if (key) return v === values[key];
    if (typeof v === "string" && PLACEHOLDERS.has(v)) return false;
    return t === v || (Array.isArray(t) && Array.isArray(v) && t.length === v.length && t.every((x, j) => x === v[j]));
  });
}

/** Entries by two keys (no joined string per entry: these run over every entry of every host), counted. */
function countBy<T>(list: readonly T[], outer: (t: T) => string, inner: (t: T) => string): Map<string, Map<string, { count: number; first: T }>> {
  const map = new Map<string, Map<string, { count: number; first: T }>>();
  for (const item of list) {
    const o = outer(item);
    let byInner = map.get(o);
    if (!byInner) map.set(o, (byInner = new Map()));
    const k = inner(item);
    const seen = byInner.get(k);
    if (seen) seen.count += 1;
    else byInner.set(k, { count: 1, first: item });
  }
  return map;
}

/** The one entry under the two keys, or undefined when there is none or more than one. */
function only<T>(index: Map<string, Map<string, { count: number; first: T }>>, outer: string, inner: string): T | undefined {
  const found = index.get(outer)?.get(inner);
  return found?.count === 1 ? found.first : undefined;
}

interface Group {
  route: Entry;
  neighbour: Entry;
  fdb: Entry;
  peers: [number, number][];
}

/** `host` with every peer's entries that follow one pattern stored as that pattern once. */
export function compactOverlay(snapshot: ClusterSnapshot, host: HostEvidence): HostEvidence {
  const { routes, neighbours, fdb } = host;
  if (!routes || !neighbours || !fdb || host.overlay) return host;
  const routeIndex = countBy(
    routes,
    () => "",
    (r) => r.dst,
  );
  const neighbourIndex = countBy(
    neighbours,
    (n) => n.dev,
    (n) => n.dst,
  );
  const fdbIndex = countBy(
    fdb,
    (e) => e.dev,
    (e) => e.mac.toLowerCase(),
  );
  const taken = new Set<object>();
  const groups: Group[] = [];
  const peerValues = valuesIn(snapshot);
  snapshot.nodes.forEach((peer, i) => {
    const values = peer.name === host.node ? undefined : peerValues[i];
    if (!values) return;
    const route = only(routeIndex, "", values.cidr);
    if (!route?.gateway || !route.dev) return;
    const neighbour = only(neighbourIndex, route.dev, route.gateway);
    const entry = only(fdbIndex, route.dev, values.lowerMac);
    if (!neighbour || !entry || taken.has(route) || taken.has(neighbour) || taken.has(entry)) return;
    const three = { route: route as Entry, neighbour: neighbour as Entry, fdb: entry as Entry };
    const fitting = (g: Group) => fits(g.route, three.route, values) && fits(g.neighbour, three.neighbour, values) && fits(g.fdb, three.fdb, values);
    let group = groups.find(fitting);
    if (!group) {
      const [r, n, f] = [templateOf(three.route, values), templateOf(three.neighbour, values), templateOf(three.fdb, values)];
      if (!r || !n || !f) return;
      const candidate: Group = { route: r, neighbour: n, fdb: f, peers: [] };
      // lossless, or the entries stay in the lists
      if (!fitting(candidate)) return;
      groups.push((group = candidate));
    }
    for (const e of [route, neighbour, entry]) taken.add(e);
    const last = group.peers.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else group.peers.push([i, i]);
  });
  if (groups.length === 0) return host;
  const templates = groups.map((g) => ({ route: JSON.stringify(g.route), neighbour: JSON.stringify(g.neighbour), fdb: JSON.stringify(g.fdb), peers: g.peers }));
  return {
    ...host,
    routes: routes.filter((r) => !taken.has(r)),
    neighbours: neighbours.filter((n) => !taken.has(n)),
    fdb: fdb.filter((e) => !taken.has(e)),
    overlay: { takenAt: snapshot.takenAt, templates },
  };
}

/** Ranges of peer indices sorted by start, each with its template, for a binary search. */
function rangesOf(host: HostEvidence): { start: number; end: number; template: OverlayTemplate }[] {
  return (host.overlay?.templates ?? [])
    .flatMap((template) => template.peers.map(([start, end]) => ({ start, end, template })))
    .sort((a, b) => a.start - b.start);
}

function templateAt(ranges: ReturnType<typeof rangesOf>, index: number): OverlayTemplate | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (index < r.start) hi = mid - 1;
    else if (index > r.end) lo = mid + 1;
    else return r.template;
  }
  return undefined;
}

function peerIndexes(snapshot: ClusterSnapshot): Map<string, number> {
  return new Map(snapshot.nodes.map((n, i) => [n.name, i]));
}

function checkSnapshot(snapshot: ClusterSnapshot, host: HostEvidence): void {
  // indices into another snapshot would name the wrong peers
  if (host.overlay && host.overlay.takenAt !== snapshot.takenAt) {
    throw new Error(`the overlay templates of ${host.node} were made with the snapshot of ${host.overlay.takenAt}, not ${snapshot.takenAt}`);
  }
}

/** A template's three entries as objects, placeholders in place (parsed once per template). */
const parsed = new WeakMap<OverlayTemplate, { route: Entry; neighbour: Entry; fdb: Entry }>();
function parsedTemplate(template: OverlayTemplate): { route: Entry; neighbour: Entry; fdb: Entry } {
  let found = parsed.get(template);
  if (!found) {
    found = { route: JSON.parse(template.route) as Entry, neighbour: JSON.parse(template.neighbour) as Entry, fdb: JSON.parse(template.fdb) as Entry };
    parsed.set(template, found);
  }
  return found;
}

function entriesFrom(template: OverlayTemplate, values: PeerValues): PeerEntries {
  const t = parsedTemplate(template);
  return {
    route: fill(t.route, values) as unknown as RouteEntry,
    neighbour: fill(t.neighbour, values) as unknown as NeighbourEntry,
    fdb: fill(t.fdb, values) as unknown as FdbEntry,
  };
}

/** The host's templates, checked to index the evidence's own snapshot. */
export function overlayTemplatesOf(ev: CheckEvidence, host: HostEvidence): readonly OverlayTemplate[] {
  checkSnapshot(ev.snapshot, host);
  return host.overlay?.templates ?? [];
}

export interface ElidedPeer {
  template: OverlayTemplate;
  values: PeerValues;
}

/** The three entries as the node showed them. */
export function entriesOf(elided: ElidedPeer): PeerEntries {
  return entriesFrom(elided.template, elided.values);
}

/** How compaction stored `peer`'s entries on `host`, if it took them out of the lists. */
export function elidedPeer(ev: CheckEvidence, host: HostEvidence | undefined, peer: string): ElidedPeer | undefined {
  if (!host?.overlay) return undefined;
  checkSnapshot(ev.snapshot, host);
  const index = memoized(ev, "peer-indexes", ev.snapshot, peerIndexes).get(peer);
  const template = index === undefined ? undefined : templateAt(memoized(ev, "overlay-ranges", host, rangesOf), index);
  const node = template && nodeNamed(ev, peer);
  const values = node && memoized(ev, "peer-values", node, valuesOf);
  return template && values ? { template, values } : undefined;
}

/**
 * Whether the template is exactly what flannel's VXLAN backend writes through
 * `device` for a peer: the route to its pod CIDR via its network address, the
 * neighbour of that address at its VtepMAC, the FDB entry of that MAC at its
 * public-ip. Then nothing about the entries can be wrong but the public-ip itself.
 */
export function isFlannelsPattern(template: OverlayTemplate, device: string): boolean {
  const { route, neighbour, fdb } = parsedTemplate(template);
  return (
    route.dst === "{cidr}" &&
    route.gateway === "{gw}" &&
    route.dev === device &&
    (route.type === undefined || route.type === "unicast") &&
    neighbour.dst === "{gw}" &&
    neighbour.dev === device &&
    neighbour.lladdr === "{mac}" &&
    fdb.mac === "{mac}" &&
    fdb.dev === device &&
    fdb.dst === "{ip}"
  );
}

/** `host` with its lists whole again (what the node showed, templates filled in): for the few hosts a trace follows. */
export function expandOverlay(snapshot: ClusterSnapshot, host: HostEvidence): HostEvidence {
  if (!host.overlay) return host;
  checkSnapshot(snapshot, host);
  const entries = host.overlay.templates.flatMap((template) =>
    template.peers.flatMap(([start, end]) =>
      snapshot.nodes.slice(start, end + 1).flatMap((peer) => {
        const values = valuesOf(peer);
        return values ? [entriesFrom(template, values)] : [];
      }),
    ),
  );
  const { overlay: _overlay, ...rest } = host;
  return {
    ...rest,
    routes: [...(host.routes ?? []), ...entries.map((e) => e.route)],
    neighbours: [...(host.neighbours ?? []), ...entries.map((e) => e.neighbour)],
    fdb: [...(host.fdb ?? []), ...entries.map((e) => e.fdb)],
  };
}

/** expandOverlay, once per host and diagnosis. */
export function expandedHost(ev: CheckEvidence, host: HostEvidence): HostEvidence;
export function expandedHost(ev: CheckEvidence, host: HostEvidence | undefined): HostEvidence | undefined;
export function expandedHost(ev: CheckEvidence, host: HostEvidence | undefined): HostEvidence | undefined {
  return host && memoized(ev, "expanded-host", host, (h) => expandOverlay(ev.snapshot, h));
}

// A node's per-peer overlay entries as templates (model: overlayTemplateSchema).
// Compaction is lossless: an entry is taken out only when filling the
// template with the peer's values gives back exactly its JSON, only when it
// is the one entry of its kind for that destination, and only for a peer
// whose keys are its own: a pod CIDR no other node's overlaps, a VtepMAC and
// network address no other node has, and entries looked up by exactly those
// (the route to its pod CIDR via its network address, that address's
// neighbour, that MAC's FDB entry). So an entry taken out is one no lookup for
// another peer finds, except a lookup by its own key (another route via this
// peer's address), which resolves through the peer the key names. What
// differs from that pattern (a missing, extra, stale or foreign entry, or a
// peer sharing its CIDR or MAC) stays in the lists as read, where the rules see it.
import type { CheckEvidence, ClusterSnapshot, FdbEntry, HostEvidence, NeighbourEntry, NodeSnapshot, OverlayTemplate, RouteEntry } from "../model/index.js";
import { memoized, sameMac } from "./cluster-view.js";
import { CidrIndex, networkAddress, overlappingCidrPairs, parseCidr } from "./ipv4.js";
import { foldHashText, foldTupleHash, type FoldExpectation, type OverlayRead } from "../probes/overlay-fold.js";

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

const MAX_TEMPLATES = 8;

interface SnapshotKeys {
  values: (PeerValues | undefined)[];
  /** the node is listed once, its pod CIDR overlaps no other node's and its VtepMAC is its own */
  distinct: boolean[];
  /** first index per network address and lower-case VtepMAC of the distinct nodes */
  byGateway: Map<string, number>;
  byMac: Map<string, number>;
  /** the distinct nodes' indices by pod CIDR */
  byNetwork: CidrIndex<number>;
}

// Every host of a check is compacted and read against the same snapshot: its peers' keys once.
const snapshotKeys = new WeakMap<ClusterSnapshot, SnapshotKeys>();
function keysIn(snapshot: ClusterSnapshot): SnapshotKeys {
  let keys = snapshotKeys.get(snapshot);
  if (keys) return keys;
  const values = snapshot.nodes.map(valuesOf);
  const count = (list: (string | undefined)[]) => {
    const m = new Map<string, number>();
    for (const k of list) if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const macs = count(snapshot.nodes.map((n) => n.flannel.vtepMac?.toLowerCase()));
  const names = count(snapshot.nodes.map((n) => n.name));
  const overlapping = new Set([...overlappingCidrPairs(snapshot.nodes.map((n) => n.podCIDR))].flatMap(([i, later]) => [i, ...later]));
  const distinct = snapshot.nodes.map(
    (n, i) => values[i] !== undefined && !overlapping.has(i) && macs.get(values[i].lowerMac) === 1 && names.get(n.name) === 1,
  );
  const first = (key: (i: number) => string | undefined) => {
    const m = new Map<string, number>();
    snapshot.nodes.forEach((_, i) => {
      const k = key(i);
      if (k !== undefined && !m.has(k)) m.set(k, i);
    });
    return m;
  };
  const byNetwork = new CidrIndex<number>();
  values.forEach((v, i) => {
    const net = v && distinct[i] ? parseCidr(v.cidr) : undefined;
    if (net) byNetwork.add(net, i);
  });
  keys = {
    values,
    distinct,
    byGateway: first((i) => (distinct[i] ? values[i]!.gw : undefined)),
    byMac: first((i) => (distinct[i] ? values[i]!.lowerMac : undefined)),
    byNetwork,
  };
  snapshotKeys.set(snapshot, keys);
  return keys;
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

/** Adds index i, the largest so far, to inclusive ranges. */
function extendRanges(ranges: [number, number][], i: number): void {
  const last = ranges.at(-1);
  if (last && last[1] === i - 1) last[1] = i;
  else ranges.push([i, i]);
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
  const { values: peerValues, distinct } = keysIn(snapshot);
  snapshot.nodes.forEach((peer, i) => {
    const values = peer.name === host.node || !distinct[i] ? undefined : peerValues[i];
    if (!values) return;
    const route = only(routeIndex, "", values.cidr);
    if (!route?.dev || route.gateway !== values.gw) return;
    const neighbour = only(neighbourIndex, route.dev, values.gw);
    const entry = only(fdbIndex, route.dev, values.lowerMac);
    if (!neighbour || !entry || taken.has(route) || taken.has(neighbour) || taken.has(entry)) return;
    const three = { route: route as Entry, neighbour: neighbour as Entry, fdb: entry as Entry };
    const fitting = (g: Group) => fits(g.route, three.route, values) && fits(g.neighbour, three.neighbour, values) && fits(g.fdb, three.fdb, values);
    let group = groups.find(fitting);
    if (!group) {
      // peers whose entries share no pattern are left as read: a search through many groups would cost more than it saves
      if (groups.length >= MAX_TEMPLATES) return;
      const [r, n, f] = [templateOf(three.route, values), templateOf(three.neighbour, values), templateOf(three.fdb, values)];
      if (!r || !n || !f) return;
      const candidate: Group = { route: r, neighbour: n, fdb: f, peers: [] };
      // lossless, or the entries stay in the lists
      if (!fitting(candidate)) return;
      groups.push((group = candidate));
    }
    for (const e of [route, neighbour, entry]) taken.add(e);
    extendRanges(group.peers, i);
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

/** The distinct peers' tuple hashes, their sum, their indices as ranges, and each node's first index by name. */
interface FoldSums {
  hashes: (bigint | undefined)[];
  count: number;
  sum: bigint;
  ranges: [number, number][];
  indexOf: Map<string, number>;
}

const foldSums = new WeakMap<ClusterSnapshot, FoldSums>();
function sumsOf(snapshot: ClusterSnapshot): FoldSums {
  let sums = foldSums.get(snapshot);
  if (sums) return sums;
  const { values, distinct } = keysIn(snapshot);
  const hashes = values.map((v, i) => (v && distinct[i] ? foldTupleHash(v.cidr, v.gw, v.mac, v.ip) : undefined));
  const indexOf = new Map<string, number>();
  snapshot.nodes.forEach((n, i) => indexOf.has(n.name) || indexOf.set(n.name, i));
  const ranges: [number, number][] = [];
  hashes.forEach((h, i) => h === undefined || extendRanges(ranges, i));
  sums = { hashes, count: hashes.filter((h) => h !== undefined).length, sum: hashes.reduce<bigint>((a, h) => a + (h ?? 0n), 0n), ranges, indexOf };
  foldSums.set(snapshot, sums);
  return sums;
}

/**
 * What `xnode-agent overlay` finds on `node` when its entries are exactly
 * flannel's for every peer compactOverlay would fold: one tuple per distinct
 * peer but itself. Undefined when there is no such peer.
 */
export function foldExpectation(snapshot: ClusterSnapshot, node: string): FoldExpectation | undefined {
  const { hashes, count, sum, indexOf } = sumsOf(snapshot);
  const own = hashes[indexOf.get(node) ?? -1];
  const expected = count - (own === undefined ? 0 : 1);
  return expected > 0 ? { count: expected, hash: foldHashText(sum - (own ?? 0n)) } : undefined;
}

/**
 * The host's evidence from an overlay read: when the agent folded, the one
 * template covers every peer foldExpectation counted, which is what
 * compactOverlay makes of the same tables read in full (the agent folds only
 * entries that are the only ones under their keys and that hash to exactly
 * those peers' values); otherwise the tables as read.
 */
export function hostTablesFrom(snapshot: ClusterSnapshot, node: string, read: OverlayRead): Pick<HostEvidence, "routes" | "neighbours" | "fdb" | "overlay"> {
  const { tables } = read;
  if (!read.template) return tables;
  const { ranges, indexOf } = sumsOf(snapshot);
  const self = indexOf.get(node) ?? -1;
  // every distinct node's range but with the node itself cut out: O(ranges) per node, not O(nodes)
  const peers: [number, number][] = [];
  for (const [start, end] of ranges) {
    if (self < start || self > end) peers.push([start, end]);
    else {
      if (start < self) peers.push([start, self - 1]);
      if (self < end) peers.push([self + 1, end]);
    }
  }
  const { route, neighbour, fdb } = read.template;
  return {
    ...tables,
    overlay: {
      takenAt: snapshot.takenAt,
      templates: [{ route: JSON.stringify(route), neighbour: JSON.stringify(neighbour), fdb: JSON.stringify(fdb), peers }],
    },
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

/** How compaction stored the entries of the peer at snapshot index `index` on `host`, if it took them out of the lists. */
export function elidedAt(ev: CheckEvidence, host: HostEvidence | undefined, index: number | undefined): ElidedPeer | undefined {
  if (!host?.overlay || index === undefined) return undefined;
  checkSnapshot(ev.snapshot, host);
  const template = templateAt(memoized(ev, "overlay-ranges", host, rangesOf), index);
  const values = template && keysIn(ev.snapshot).values[index];
  return template && values ? { template, values } : undefined;
}

/** The neighbour entry for `dst` on `dev` that compaction took out of `host`'s list: the one of the peer whose network address `dst` is. */
export function elidedNeighbour(ev: CheckEvidence, host: HostEvidence, dst: string, dev: string): NeighbourEntry | undefined {
  const found = elidedAt(ev, host, keysIn(ev.snapshot).byGateway.get(dst));
  const neighbour = found && entriesOf(found).neighbour;
  return neighbour?.dst === dst && neighbour.dev === dev ? neighbour : undefined;
}

/** The FDB entry for `mac` on `dev` that compaction took out of `host`'s list: the one of the peer with that VtepMAC. */
export function elidedFdbFor(ev: CheckEvidence, host: HostEvidence, dev: string, mac: string): FdbEntry | undefined {
  const found = elidedAt(ev, host, keysIn(ev.snapshot).byMac.get(mac.toLowerCase()));
  const entry = found && entriesOf(found).fdb;
  return entry?.dev === dev && sameMac(entry.mac, mac) ? entry : undefined;
}

/** The elided route covering `ip`, if any: at most one, the pod CIDRs of peers whose entries are elided overlap nothing. */
export function elidedRouteFor(ev: CheckEvidence, host: HostEvidence, ip: number): RouteEntry | undefined {
  const found = elidedAt(ev, host, keysIn(ev.snapshot).byNetwork.longest(ip));
  return found && entriesOf(found).route;
}

/**
 * The peers (snapshot indices) whose elided route a route in the lists beats:
 * it lies inside the peer's pod CIDR and is more specific. Only those can have
 * their entries elided, so only their pod CIDRs are looked at.
 */
export function peersUnderListedRoutes(ev: CheckEvidence, routes: readonly RouteEntry[]): Set<number> {
  const { byNetwork } = keysIn(ev.snapshot);
  const out = new Set<number>();
  for (const r of routes) {
    const net = parseCidr(r.dst);
    if (net) for (const i of byNetwork.holdingShorter(net.network, net.prefixLength)) out.add(i);
  }
  return out;
}

/** The FDB entries compaction took out of `host`'s list whose destination `accept`s, in peer order, filled in only when accepted. */
export function elidedFdbTo(ev: CheckEvidence, host: HostEvidence, accept: (dst: string) => boolean): FdbEntry[] {
  const out: { index: number; entry: FdbEntry }[] = [];
  const { values } = keysIn(ev.snapshot);
  for (const template of overlayTemplatesOf(ev, host)) {
    const dst = parsedTemplate(template).fdb.dst;
    for (const [start, end] of template.peers) {
      for (let i = start; i <= end; i++) {
        const v = values[i];
        if (v && accept(dst === "{ip}" ? v.ip : String(dst))) out.push({ index: i, entry: entriesFrom(template, v).fdb });
      }
    }
  }
  return out.sort((a, b) => a.index - b.index).map((e) => e.entry);
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

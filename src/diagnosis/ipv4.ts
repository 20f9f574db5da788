// IPv4 arithmetic for the rules: addresses and CIDRs as the probes print them
// ("10.244.1.0/24", a bare "10.244.1.5" for a /32 route, "default").

export interface Cidr {
  /** the network's first address as an unsigned 32-bit number */
  network: number;
  prefixLength: number;
}

export function parseIpv4(text: string): number | undefined {
  // by hand rather than split and a regex per octet: the rules parse addresses for every pair of nodes
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return undefined;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * Values by CIDR for lookups by address, one map per prefix length: the rules
 * look addresses up for every pair of nodes, which a scan of the CIDRs would
 * make quadratic. The first value added per CIDR is kept.
 */
export class CidrIndex<T> {
  private readonly byLength = new Map<number, Map<number, T>>();
  /** the prefix lengths present, longest first */
  private lengths: number[] = [];

  add(cidr: Cidr, value: T): void {
    let nets = this.byLength.get(cidr.prefixLength);
    if (!nets) {
      this.byLength.set(cidr.prefixLength, (nets = new Map()));
      this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    }
    if (!nets.has(cidr.network)) nets.set(cidr.network, value);
  }

  /** The value of the most specific CIDR holding `address` (a kernel's route lookup). */
  longest(address: number): T | undefined {
    for (const length of this.lengths) {
      const found = this.byLength.get(length)!.get((address & mask(length)) >>> 0);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** The values of the CIDRs holding `address` with a prefix shorter than `than`. */
  holdingShorter(address: number, than: number): T[] {
    return this.lengths.flatMap((length) => {
      const found = length < than ? this.byLength.get(length)!.get((address & mask(length)) >>> 0) : undefined;
      return found === undefined ? [] : [found];
    });
  }
}

// parseCidr's answers: a large cluster's evidence names the same few thousand CIDRs again and again
const parsedCidrs = new Map<string, Cidr | undefined>();
const PARSED_CIDRS_MAX = 100_000;

/** "a.b.c.d/n", a bare address (/32) or "default" (/0). Host bits are cleared. */
export function parseCidr(text: string): Cidr | undefined {
  if (parsedCidrs.has(text)) {
    const hit = parsedCidrs.get(text);
    return hit && { ...hit };
  }
  const parsed = parseCidrText(text);
  if (parsedCidrs.size >= PARSED_CIDRS_MAX) parsedCidrs.clear();
  parsedCidrs.set(text, parsed);
  return parsed && { ...parsed };
}

function parseCidrText(text: string): Cidr | undefined {
  if (text === "default") return { network: 0, prefixLength: 0 };
  const [address, length, ...rest] = text.split("/");
  if (rest.length > 0 || address === undefined) return undefined;
  const ip = parseIpv4(address);
  const prefixLength = length === undefined ? 32 : /^\d{1,2}$/.test(length) ? Number(length) : NaN;
  if (ip === undefined || !(prefixLength >= 0 && prefixLength <= 32)) return undefined;
  return { network: (ip & mask(prefixLength)) >>> 0, prefixLength };
}

function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefixLength}`;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCidr(cidr);
  const address = parseIpv4(ip);
  return net !== undefined && address !== undefined && netContains(net, address);
}

/** cidrContains for what is parsed already (loops over many addresses). */
export function netContains(net: Cidr, address: number): boolean {
  return (address & mask(net.prefixLength)) >>> 0 === net.network;
}

/** Whether `outer` contains every address of `inner`. */
export function cidrCovers(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return a !== undefined && b !== undefined && a.prefixLength <= b.prefixLength && cidrContains(outer, formatIpv4(b.network));
}

export function cidrsOverlap(a: string, b: string): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

export function sameSubnet(a: string, b: string, prefixLength: number): boolean {
  const x = parseIpv4(a);
  const y = parseIpv4(b);
  return x !== undefined && y !== undefined && (x & mask(prefixLength)) >>> 0 === (y & mask(prefixLength)) >>> 0;
}

/** "10.244.1.0/24" → "10.244.1.0": flannel's lease address, the remote flannel.1's own /32. */
export function networkAddress(cidr: string): string | undefined {
  const net = parseCidr(cidr);
  return net && formatIpv4(net.network);
}

/** The subnet an interface address lies in: 192.168.56.101/24 → 192.168.56.0/24. */
export function subnetOf(address: string, prefixLength: number): string | undefined {
  const net = parseCidr(`${address}/${prefixLength}`);
  return net && formatCidr(net);
}

/**
 * For each index, the later indices whose CIDR overlaps its own, ascending: a
 * sweep over the CIDRs sorted by first address, so a cluster of disjoint
 * podCIDRs costs a sort, not a comparison of every pair.
 */
export function overlappingCidrPairs(cidrs: readonly (string | undefined)[]): Map<number, number[]> {
  const ranges = cidrs
    .flatMap((c, i) => {
      const net = c === undefined ? undefined : parseCidr(c);
      return net ? [{ i, start: net.network, end: net.network + 2 ** (32 - net.prefixLength) - 1 }] : [];
    })
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const out = new Map<number, number[]>();
  let open: typeof ranges = [];
  for (const r of ranges) {
    open = open.filter((o) => o.end >= r.start);
    for (const o of open) {
      const [first, later] = o.i < r.i ? [o.i, r.i] : [r.i, o.i];
      out.set(first, [...(out.get(first) ?? []), later]);
    }
    open.push(r);
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

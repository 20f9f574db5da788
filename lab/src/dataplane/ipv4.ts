// IPv4 arithmetic on dotted strings: the lab derives pod, cni0 and lease
// addresses from a node's podCIDR and matches addresses to networks.

export function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function isIpv4(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) && text.split(".").every((p) => Number(p) <= 255);
}

export interface Cidr {
  /** network address as an integer */
  base: number;
  prefix: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split("/");
  const prefix = Number(len);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(ipToInt(ip) / size) * size, prefix, size };
}

/** "10.0.2.15/24" → "10.0.2.15" */
export function addressOf(cidr: string): string {
  return cidr.split("/")[0] ?? cidr;
}

/** "10.244.1.7/24" → "10.244.1.0" */
export function networkAddress(cidr: string): string {
  return intToIp(parseCidr(cidr).base);
}

/** "10.244.1.7/24" → "10.244.1.0/24" */
export function canonicalCidr(cidr: string): string {
  const c = parseCidr(cidr);
  return `${intToIp(c.base)}/${c.prefix}`;
}

/** The n-th address of the network: hostAddress("10.244.1.0/24", 2) → "10.244.1.2". */
export function hostAddress(cidr: string, n: number): string {
  const c = parseCidr(cidr);
  if (n <= 0 || n >= c.size - 1) throw new Error(`${cidr} has no host number ${n}`);
  return intToIp(c.base + n);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + c.size;
}

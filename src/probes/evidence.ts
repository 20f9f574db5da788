// Typed evidence the probes produce, per node. Diagnosis reads only these.

export interface InterfaceAddress {
  address: string;
  prefixLength: number;
}

export interface InterfaceInfo {
  name: string;
  index: number;
  mtu: number;
  /** administratively up (UP flag) */
  up: boolean;
  /** link has carrier (LOWER_UP flag): a veth or NIC whose other end is down has none */
  carrier?: boolean;
  mac?: string;
  kind?: string;
  addresses: InterfaceAddress[];
}

export interface RouteEntry {
  dst: string; // "default" or CIDR or single address
  /** absent for unicast; "blackhole", "unreachable", "prohibit", … otherwise */
  type?: string;
  gateway?: string;
  dev?: string;
  onlink: boolean;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
}

export interface VxlanDevice {
  name: string;
  vni: number;
  local?: string;
  /** underlay interface name (`dev` in `ip link add … type vxlan`) */
  underlay?: string;
  port: number;
  learning: boolean;
  mtu: number;
  mac?: string;
  up: boolean;
}

export interface FdbEntry {
  mac: string;
  dev: string;
  dst: string;
  permanent: boolean;
}

export interface NeighbourEntry {
  dst: string;
  dev: string;
  lladdr?: string;
  states: string[];
}

export interface SysctlValues {
  ipForward?: number;
  rpFilterAll?: number;
  bridgeNfCallIptables?: number;
}

export interface IptablesRule {
  table: string;
  chain: string;
  /** the rule as iptables-save prints it after "-A CHAIN " */
  spec: string;
}

export interface IptablesState {
  policies: { table: string; chain: string; policy: string }[];
  rules: IptablesRule[];
}

export type ReachKind = "icmp" | "tcp";

export interface ReachTarget {
  id: string;
  kind: ReachKind;
  address: string;
  port?: number;
  /** source interface for ICMP (ping -I) */
  iface?: string;
}

export interface ReachResult {
  id: string;
  ok: boolean;
  rttMs?: number;
  /** e.g. "timeout", "connection refused", "exit 2" */
  error?: string;
}

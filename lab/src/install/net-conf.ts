// kube-flannel-cfg's net-conf.json as each installation writes it. flannel
// decodes it with Go's encoding/json, which matches keys case-insensitively,
// so `lower` (network/backend/type/vni/port) configures flannel exactly like
// the upstream spelling (Network/Backend/Type/VNI/Port).
import type { Scenario } from "../scenario.js";

export type Json = string | number | boolean | Json[] | { [key: string]: Json };

function lowerKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), lowerKeys(x)]));
}

/** `extra` are top-level keys the installation writes too (kubespray's EnableIPv4, the v0.25+ manifest's EnableNFTables). */
export function netConfJson(s: Scenario, extra: Record<string, Json> = {}): string {
  const backend: Json = s.flannel.backend === "vxlan" ? { Type: "vxlan", VNI: s.flannel.vni, Port: s.flannel.port } : { Type: "host-gw" };
  const conf: Json = { Network: s.flannel.network, ...extra, Backend: backend };
  return JSON.stringify(s.flannel.netConfKeyCase === "lower" ? lowerKeys(conf) : conf, null, 2);
}

// flannel's net-conf.json as flanneld reads it: Go's encoding/json matches
// keys to fields case-insensitively, so `vni`/`port`/`type` configure flannel
// exactly like `VNI`/`Port`/`Type`. Only the fields a check uses are read.
import { errorMessage } from "../errors.js";

export interface NetConf {
  network?: string;
  backendType?: string;
  port?: number;
  vni?: number;
  enableNFTables?: boolean;
  enableIPv4?: boolean;
  ipv6Network?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** encoding/json decodes every key equal to the field's name under case folding, in order: the last one wins. */
function field(obj: Json, name: string): unknown {
  const key = Object.keys(obj).findLast((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

function typed<T>(obj: Json, name: string, type: "string" | "number" | "boolean", problems: string[], where: string): T | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) return undefined;
  // flanneld refuses to start on a mistyped field; xnode reads the rest and says which one
  if (typeof v !== type) {
    problems.push(`${where}${name} is ${JSON.stringify(v)}, not a ${type}`);
    return undefined;
  }
  return v as T;
}

/** `source` names the file in warnings, e.g. "ConfigMap kube-flannel/kube-flannel-cfg net-conf.json". */
export function parseNetConf(text: string, source: string): { conf: NetConf; warnings: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { conf: {}, warnings: [`${source} is not valid JSON: ${errorMessage(err)}; assuming VXLAN port 8472, VNI 1`] };
  }
  if (!isObject(data)) return { conf: {}, warnings: [`${source} is not a JSON object; assuming VXLAN port 8472, VNI 1`] };
  const problems: string[] = [];
  const backendValue = field(data, "Backend");
  const backend = isObject(backendValue) ? backendValue : {};
  const conf: NetConf = {
    network: typed<string>(data, "Network", "string", problems, ""),
    backendType: typed<string>(backend, "Type", "string", problems, "Backend."),
    port: typed<number>(backend, "Port", "number", problems, "Backend."),
    vni: typed<number>(backend, "VNI", "number", problems, "Backend."),
    enableNFTables: typed<boolean>(data, "EnableNFTables", "boolean", problems, ""),
    enableIPv4: typed<boolean>(data, "EnableIPv4", "boolean", problems, ""),
    ipv6Network: typed<string>(data, "IPv6Network", "string", problems, ""),
  };
  const warnings = problems.map((p) => `${source}: ${p} (flanneld would refuse it); that field is ignored`);
  return { conf: Object.fromEntries(Object.entries(conf).filter(([, v]) => v !== undefined)) as NetConf, warnings };
}

// The flanneld flags that shape its data plane, parsed as Go's flag package
// does: "-name" or "--name", value as "=value" or as the next argument.
// Other flags (--kube-subnet-mgr, ...) are accepted and ignored.

export interface FlannelArgs {
  /** --iface, in order; each is an interface name or an IP address */
  iface: string[];
  /** --iface-regex, in order */
  ifaceRegex: string[];
  /** --iface-can-reach (a single value: the last one wins) */
  ifaceCanReach?: string;
  /** --public-ip: the external address (the node-public-ip annotation overrides it) */
  publicIP?: string;
  ipMasq: boolean;
  iptablesForwardRules: boolean;
}

const valueFlags = new Set(["iface", "iface-regex", "iface-can-reach", "public-ip"]);
const boolFlags = new Set(["ip-masq", "iptables-forward-rules"]);

function parseBool(flag: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new Error(`invalid boolean value "${value}" for -${flag}`);
}

export function parseFlannelArgs(args: readonly string[]): FlannelArgs {
  const parsed: FlannelArgs = { iface: [], ifaceRegex: [], ipMasq: false, iptablesForwardRules: true };
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/s.exec(args[i] ?? "");
    if (!m) continue;
    const flag = m[1]!;
    let value = m[2];
    if (valueFlags.has(flag)) {
      if (value === undefined) value = args[++i];
      if (value === undefined) throw new Error(`flag needs an argument: -${flag}`);
      if (flag === "iface") parsed.iface.push(value);
      else if (flag === "iface-regex") parsed.ifaceRegex.push(value);
      else if (flag === "public-ip") parsed.publicIP = value;
      else parsed.ifaceCanReach = value;
    } else if (boolFlags.has(flag)) {
      if (flag === "ip-masq") parsed.ipMasq = parseBool(flag, value);
      else parsed.iptablesForwardRules = parseBool(flag, value);
    }
  }
  return parsed;
}

/** Names of the flags set on a command line (Go's flag.Visit), values skipped. */
export function parseFlagNames(args: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z0-9-]+)(=.*)?$/s.exec(args[i] ?? "");
    if (!m) continue;
    names.add(m[1]!);
    if (valueFlags.has(m[1]!) && m[2] === undefined) i++;
  }
  return names;
}

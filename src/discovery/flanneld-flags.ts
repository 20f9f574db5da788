// flanneld's flags as flanneld itself resolves them (flannel main.go): Go's
// `flag` package parses the command line, then flagutil.SetFlagsFromEnv
// copies FLANNELD_<FLAG> into every flag the command line did not set (an
// empty variable sets nothing). Pure: env values arrive already resolved.
import type { FlannelFlag } from "../model/index.js";

/** flanneld's boolean flags: Go's parser never takes their value from the next argument. */
const BOOL_FLAGS = new Set([
  "ip-masq",
  "ip-masq-fully-random-disable",
  "kube-subnet-mgr",
  "version",
  "iptables-forward-rules",
  "ip-blackhole-route",
  "set-node-network-unavailable",
]);

/** Every flag flanneld defines (main.go init, plus the klog flags it copies): the names FLANNELD_* can set. */
const FLANNELD_FLAGS = [
  ...BOOL_FLAGS,
  "etcd-endpoints",
  "etcd-prefix",
  "etcd-keyfile",
  "etcd-certfile",
  "etcd-cafile",
  "etcd-username",
  "etcd-password",
  "iface",
  "iface-regex",
  "iface-can-reach",
  "subnet-file",
  "public-ip",
  "public-ipv6",
  "subnet-lease-renew-margin",
  "kube-api-url",
  "kube-annotation-prefix",
  "kubeconfig-file",
  "healthz-ip",
  "healthz-port",
  "iptables-resync",
  "net-config-path",
  "v",
  "vmodule",
  "log_backtrace_at",
];

/** flagutil's key: FLANNELD_ + the name upper-cased with dashes as underscores. */
export function envNameOf(flag: string): string {
  return `FLANNELD_${flag.toUpperCase().replaceAll("-", "_")}`;
}

export interface ArgvPart {
  argv: readonly string[];
  source: "command" | "args";
}

/**
 * The command line as Go's flag package reads it: `-f`/`--f`, `=value` or the
 * next argument (not for booleans); parsing stops at `--` or the first
 * non-flag. A repeated flag keeps every value (flanneld's --iface and
 * --iface-regex are lists; for the others the last one wins in flanneld).
 */
export function parseFlanneldArgv(parts: readonly ArgvPart[]): FlannelFlag[] {
  const words = parts.flatMap((p) => p.argv.map((word) => ({ word, source: p.source })));
  const flags: FlannelFlag[] = [];
  const add = (name: string, value: string | undefined, source: ArgvPart["source"], from: string) => {
    const known = flags.find((f) => f.name === name);
    if (known) {
      if (value !== undefined) known.values.push(value);
      known.from = `${known.from}, ${from}`;
    } else flags.push({ name, values: value === undefined ? [] : [value], source, from });
  };
  for (let i = 0; i < words.length; i++) {
    const { word, source } = words[i]!;
    if (word === "--" || !/^--?[^-=]/.test(word)) break;
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(word)!;
    const name = m[1]!;
    if (m[2] !== undefined) add(name, m[2], source, `${source} ${word}`);
    else if (BOOL_FLAGS.has(name) || i + 1 >= words.length) add(name, undefined, source, `${source} ${word}`);
    else {
      const next = words[i + 1]!;
      add(name, next.word, source, `${source} ${word} ${next.word}`);
      i++;
    }
  }
  return flags;
}

/** A FLANNELD_* variable with its value as the container sees it (a ConfigMap key already read), or undefined when unreadable. */
export interface ResolvedEnv {
  name: string;
  value: string | undefined;
  /** "env FLANNELD_IFACE" or "env FLANNELD_IFACE ← ConfigMap kube-system/rke2-canal-config key canal_iface" */
  from: string;
}

/** Command-line flags, then every FLANNELD_<FLAG> for a flag the command line left unset. */
export function effectiveFlags(commandLine: readonly FlannelFlag[], env: readonly ResolvedEnv[]): FlannelFlag[] {
  const flags = commandLine.map((f) => ({ ...f, values: [...f.values] }));
  for (const name of FLANNELD_FLAGS) {
    if (flags.some((f) => f.name === name)) continue;
    // Kubernetes gives the container the last of two variables with one name
    const v = env.filter((e) => e.name === envNameOf(name)).at(-1);
    if (v?.value) flags.push({ name, values: [v.value], source: "env", from: v.from });
  }
  return flags;
}

/** The values of one flag; a bare boolean flag gives [""] so "set" and "unset" stay apart. */
export function flagValues(flags: readonly FlannelFlag[] | undefined, name: string): string[] | undefined {
  const f = flags?.find((x) => x.name === name);
  if (!f) return undefined;
  return f.values.length ? f.values : [""];
}

// k3s runs flannel inside its own process (k3s-io/k3s pkg/agent/flannel): no
// DaemonSet, no pods. Each Node carries k3s's flags in the annotation
// `k3s.io/node-args`, a JSON array such as ["server","--flannel-iface","eth1"]
// (config-file values included since v1.21.1, k3s#3289). The flannel flags
// found there are kept per node, under flanneld's own names.
import type { FlannelFlag } from "../model/index.js";

export const K3S_NODE_ARGS = "k3s.io/node-args";

/** k3s flag → the flanneld flag it sets (k3s hands --flannel-iface to flannel as its interface). */
const TO_FLANNELD: Record<string, string> = { "flannel-iface": "iface" };

export interface K3sNodeArgs {
  /** "server" or "agent" */
  role?: string;
  /** --flannel-backend, "vxlan" when not given (k3s's default) */
  backend: string;
  flags: FlannelFlag[];
}

function parseArray(text: string): string[] | undefined {
  try {
    const data: unknown = JSON.parse(text);
    return Array.isArray(data) && data.every((x) => typeof x === "string") ? data : undefined;
  } catch {
    return undefined;
  }
}

/** undefined: no (readable) annotation, so this Node is not a k3s node as far as xnode can tell. */
export function parseK3sNodeArgs(annotations: Record<string, string> | undefined): K3sNodeArgs | undefined {
  const text = annotations?.[K3S_NODE_ARGS];
  const argv = text === undefined ? undefined : parseArray(text);
  if (!argv) return undefined;
  const flags: FlannelFlag[] = [];
  let backend = "vxlan";
  // urfave/cli (k3s's parser) takes --flag=value and --flag value alike
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m) continue;
    const name = m[1]!;
    const inline = m[2];
    const value = inline ?? (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-") ? argv[++i] : undefined);
    if (name === "flannel-backend" && value !== undefined) backend = value;
    const flanneld = TO_FLANNELD[name];
    if (flanneld && value !== undefined) {
      const from = `k3s flag --${name} ${value} (Node annotation ${K3S_NODE_ARGS})`;
      const known = flags.find((f) => f.name === flanneld);
      if (known)
        known.values = [value]; // a repeated k3s string flag: the last one counts
      else flags.push({ name: flanneld, values: [value], source: "k3s-node-args", from });
    }
  }
  const role = argv[0] && !argv[0].startsWith("-") ? argv[0] : undefined;
  return { ...(role ? { role } : {}), backend, flags };
}

/** k3s with --flannel-backend=none runs no flannel: another CNI (or a flannel DaemonSet) does the job. */
export function k3sRunsFlannel(args: K3sNodeArgs): boolean {
  return args.backend !== "none";
}

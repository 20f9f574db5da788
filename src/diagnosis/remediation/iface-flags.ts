// flanneld's interface-selection flags (--iface, --iface-regex,
// --iface-can-reach) as they appear in args, and the interface a plan chose.
import { IFACE_SELECTION_FLAGS } from "../flannel-flags.js";
import type { ProvenInterface } from "../underlay-proof.js";

/** The args split into interface-selection flags (`--iface=x`, `--iface x`, single-dash too) and the rest. */
export function splitIfaceFlags(args: readonly string[]): { others: string[]; iface: string[] } {
  const others: string[] = [];
  const iface: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z-]+)(=.*)?$/.exec(args[i]!);
    if (!m || !IFACE_SELECTION_FLAGS.includes(m[1]!)) {
      others.push(args[i]!);
      continue;
    }
    // the space-separated form carries its value in the next arg
    const next = args[i + 1];
    if (m[2] === undefined && next !== undefined && !next.startsWith("-")) {
      iface.push(`${args[i]} ${next}`);
      i++;
    } else {
      iface.push(args[i]!);
    }
  }
  return { others, iface };
}

/** Args without any interface-selection flag, plus `flag`. */
export function withIfaceFlag(args: readonly string[], flag: string): string[] {
  return [...splitIfaceFlags(args).others, flag];
}

export interface IfaceChoice {
  /** flanneld's flag without dashes, and its value */
  flagName: "iface" | "iface-regex";
  value: string;
  /** `--<flagName>=<value>` */
  flag: string;
  /** what a node needs for the flag to find an interface, in operator words */
  needs: string;
  /** per node, the proven interface the flag selects there */
  perNode: Map<string, ProvenInterface>;
}

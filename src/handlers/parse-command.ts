// `/xnode …` text → a typed command, or a reason it is not one. Pure; the
// cluster list comes from config so unknown names never reach a queue.
import { z } from "zod";

export type XnodeCommand =
  | { kind: "check"; cluster: string }
  | { kind: "trace"; cluster: string; from: string; to: string }
  | { kind: "help" }
  | { kind: "clusters" }
  | { kind: "status" }
  | { kind: "audit"; cluster: string }
  | { kind: "digest-now" };

export type ParsedCommand = { ok: true; command: XnodeCommand } | { ok: false; problem: string };

const clusterName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
// Kubernetes node names: DNS subdomains (RFC 1123), at most 253 characters
const nodeName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

// Zero-width and direction marks: JavaScript's \s counts some of them as spaces, and a name
// carrying one only looks like a cluster's. Refused outright, with where it is.
const INVISIBLE = /\p{Cf}/u;

export function parseCommand(text: string, knownClusters: readonly string[]): ParsedCommand {
  const invisible = INVISIBLE.exec(text);
  if (invisible) {
    const code = `U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    return { ok: false, problem: `the command contains an invisible character (${code}) at position ${invisible.index + 1}; type it again without it` };
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  const needsClusterNamed = (name: string): { ok: true } | { ok: false; problem: string } => {
    if (!clusterName.safeParse(name).success) return { ok: false, problem: `"${name}" is not a cluster name` };
    if (!knownClusters.includes(name)) return { ok: false, problem: `unknown cluster "${name}"; configured: ${knownClusters.join(", ") || "none"}` };
    return { ok: true };
  };
  const needsCluster = (kind: "check" | "audit"): ParsedCommand => {
    if (args.length !== 1) return { ok: false, problem: `\`${kind}\` takes exactly one cluster name` };
    const name = args[0]!;
    const known = needsClusterNamed(name);
    return known.ok ? { ok: true, command: { kind, cluster: name } } : known;
  };
  const noArgs = (command: XnodeCommand): ParsedCommand =>
    args.length === 0 ? { ok: true, command } : { ok: false, problem: `\`${verb}\` takes no arguments` };

  const trace = (): ParsedCommand => {
    if (args.length !== 3) return { ok: false, problem: "`trace` takes a cluster name, a from-node and a to-node" };
    const [cluster, from, to] = args as [string, string, string];
    const known = needsClusterNamed(cluster);
    if (!known.ok) return known;
    for (const n of [from, to]) if (!nodeName.safeParse(n).success) return { ok: false, problem: `"${n}" is not a node name` };
    if (from === to) return { ok: false, problem: "`trace` needs two different nodes" };
    return { ok: true, command: { kind: "trace", cluster, from, to } };
  };

  switch (verb?.toLowerCase()) {
    case undefined:
    case "help":
      return noArgs({ kind: "help" });
    case "check":
      return needsCluster("check");
    case "audit":
      return needsCluster("audit");
    case "trace":
      return trace();
    case "clusters":
      return noArgs({ kind: "clusters" });
    case "status":
      return noArgs({ kind: "status" });
    case "digest":
      return args.length === 1 && args[0] === "now" ? { ok: true, command: { kind: "digest-now" } } : { ok: false, problem: "did you mean `digest now`?" };
    default:
      return { ok: false, problem: `unknown command "${verb}"` };
  }
}

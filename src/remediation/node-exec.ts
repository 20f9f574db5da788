// Runs one argv on a node through its host agent and reads the bits of node
// state the fixes touch. Every failure names the node and the command.
import { z } from "zod";
import { hostAgentTarget } from "../check/inspect-host.js";
import type { ClusterSnapshot, NodeSnapshot } from "../model/index.js";
import { addressesProbe } from "../probes/addresses.js";
import { errorMessage, firstIssue, XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { ExecResult } from "../kube/types.js";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { iptablesSaveTool, iptablesTool, routeJsonSchema, sysctlPath, type IptablesVia, type RouteJson } from "./host-actions.js";

export const DEFAULT_EXEC_TIMEOUT_MS = 15_000;

export interface NodeShell {
  node: string;
  /** runs argv; a non-zero exit is returned, not thrown */
  exec(argv: string[]): Promise<ExecResult>;
  /** runs argv and returns stdout; a non-zero exit throws with the node named */
  run(argv: string[]): Promise<string>;
}

export function nodeShell(kube: KubeClient, snapshot: ClusterSnapshot, node: string, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): NodeShell {
  const n: NodeSnapshot | undefined = snapshot.nodes.find((x) => x.name === node);
  const target = n && hostAgentTarget(n);
  if (!target) {
    throw new XnodeError(
      "AGENT_MISSING",
      n ? `no ready xnode host agent on node ${node}` : `node ${node} is not in cluster ${snapshot.cluster} any more`,
      "The fix runs through the host agent: check the xnode-host-agent DaemonSet's pod on that node (kubectl -n xnode-system get pods -o wide).",
    );
  }
  const exec = (argv: string[]) => kube.exec(target, argv, timeoutMs);
  return {
    node,
    exec,
    run: async (argv) => {
      const r = await exec(argv);
      if (r.exitCode !== 0) {
        const why = r.stderr.trim().split("\n")[0] || `exit code ${r.exitCode}`;
        throw new XnodeError(
          "FIX_FAILED",
          `\`${argv.join(" ")}\` failed on ${node}: ${why}`,
          "Check the host agent on that node; a fix stops there, and its rollback covers what already changed.",
        );
      }
      return r.stdout;
    },
  };
}

const routesSchema = z.array(routeJsonSchema);

function parseRoutes(node: string, stdout: string): RouteJson[] {
  const invalid = (why: string) =>
    new XnodeError("PROBE_OUTPUT_INVALID", `\`ip -j route show\` on ${node} ${why}`, "Check that the host agent image has iproute2 with JSON output.");
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim() || "[]");
  } catch (err) {
    throw invalid(`did not print JSON (${errorMessage(err)})`);
  }
  const routes = routesSchema.safeParse(data);
  if (!routes.success) throw invalid(`printed routes xnode cannot read (${firstIssue(routes.error)})`);
  return routes.data;
}

/** Routes of the main table, all of them or those with exactly prefix `dst`. */
export async function readRoutes(shell: NodeShell, dst?: string): Promise<RouteJson[]> {
  return parseRoutes(shell.node, await shell.run(["ip", "-j", "route", "show", ...(dst ? [dst] : [])]));
}

/** Hash of the whole route table, order-independent, nothing left out. */
export async function routeTableHash(shell: NodeShell): Promise<string> {
  const routes = (await readRoutes(shell)).map((r) => canonicalJson(r)).sort();
  return sha256Hex(routes.join("\n"));
}

/** Hash of `iptables-save -t TABLE` (of the ruleset `via` names) minus what changes by itself: the header/footer timestamps and packet counters. */
export async function iptablesHash(shell: NodeShell, table: string, via: IptablesVia = {}): Promise<string> {
  const text = await shell.run([iptablesSaveTool(via), "-t", table]);
  const lines = text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, "").replace(/^\[\d+:\d+\] /, ""));
  return sha256Hex(lines.join("\n"));
}

/** `iptables -S CHAIN` lines (of the ruleset `via` names): line 0 is -P/-N, rule k is line k. */
export async function listChain(shell: NodeShell, table: string, chain: string, via: IptablesVia = {}): Promise<string[]> {
  return (await shell.run([...iptablesTool(via), "-t", table, "-S", chain])).split("\n").filter((l) => l.trim() !== "");
}

/** The IPv4 addresses of one device as `ip addr` writes them ("10.244.1.1/24"), read with the addresses probe's parser. */
export async function readAddresses(shell: NodeShell, dev: string): Promise<string[]> {
  const argv = ["ip", "-j", "addr", "show", "dev", dev];
  const interfaces = addressesProbe.parse(await shell.run(argv), undefined);
  return interfaces.flatMap((i) => i.addresses.map((a) => `${a.address}/${a.prefixLength}`)).sort();
}

export async function readSysctl(shell: NodeShell, key: string): Promise<string> {
  return (await shell.run(["cat", sysctlPath(key)])).trim();
}

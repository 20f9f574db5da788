// Runs a plan's commands through each node's host agent: nodes in parallel,
// each node's commands in order and stopping at its first failure. Before
// each command it records what the command replaces, after it checks the
// node really is in the state the command promised.
import type { ClusterSnapshot } from "../model/index.js";
import { errorMessage, isXnodeError, XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import { actionsByNode } from "./fingerprint.js";
import { iptablesTool, routeSpec, type HostAction, type RouteJson } from "./host-actions.js";
import { applyNft, type NftRecord } from "./nft-exec.js";
import { listChain, nodeShell, readAddresses, readRoutes, readSysctl, type NodeShell } from "./node-exec.js";

/** What a command found and left, enough to put the node back. */
export type CommandRecord =
  | { kind: "route"; before: RouteJson[]; after: RouteJson[] }
  | { kind: "iptables"; deletedAt?: number }
  | { kind: "sysctl"; previous: string }
  /** the device's addresses before the command */
  | { kind: "addr"; before: string[] }
  | NftRecord;

export interface AppliedCommand {
  node: string;
  argv: string[];
  record: CommandRecord;
  /** what the verification saw */
  verified: string;
  durationMs: number;
}

export interface HostCommandsResult {
  /** commands that ran, in order per node (including one whose verification failed: it still changed the node) */
  applied: AppliedCommand[];
  failures: { node: string; error: XnodeError }[];
}

type Route = Extract<HostAction, { kind: "route" }>;

function isTheRoute(r: RouteJson, a: Route): boolean {
  return (!a.via || r.gateway === a.via) && (!a.dev || r.dev === a.dev) && (r.metric ?? 0) === (a.metric ?? 0) && (!a.onlink || !!r.flags?.includes("onlink"));
}

function unverified(node: string, argv: string[], saw: string): XnodeError {
  return new XnodeError(
    "FIX_FAILED",
    `\`${argv.join(" ")}\` ran on ${node} but did not take effect: ${saw}`,
    "Something on the node may be undoing it (a network manager, a firewall reload); the rollback reverts what did change.",
  );
}

async function applyOne(shell: NodeShell, argv: string[], action: HostAction): Promise<{ record: CommandRecord; verified: string; failure?: XnodeError }> {
  switch (action.kind) {
    case "route": {
      const before = await readRoutes(shell, action.dst);
      await shell.run(argv);
      const after = await readRoutes(shell, action.dst);
      const found = after.find((r) => isTheRoute(r, action));
      const shown = after.map((r) => routeSpec(r).join(" ")).join("; ") || "no route";
      const ok = action.verb === "replace" ? !!found : !found;
      return {
        record: { kind: "route", before, after },
        verified: `ip route show ${action.dst}: ${shown}`,
        ...(ok ? {} : { failure: unverified(shell.node, argv, `ip route show ${action.dst} shows ${shown}`) }),
      };
    }
    case "iptables": {
      if (action.op === "-D") {
        const before = await listChain(shell, action.table, action.chain, action);
        await shell.run(argv);
        const after = await listChain(shell, action.table, action.chain, action);
        const at = before.findIndex((line, i) => after[i] !== line);
        const ok = after.length === before.length - 1 && at > 0;
        return {
          record: { kind: "iptables", ...(ok ? { deletedAt: at } : {}) },
          verified: ok ? `rule ${at} of ${action.chain} removed` : `${action.chain} still has ${after.length - 1} rules`,
          ...(ok ? {} : { failure: unverified(shell.node, argv, `${action.chain} did not lose a rule`) }),
        };
      }
      await shell.run(argv);
      // -C asks the kernel itself (through the same backend's tool); iptables-save would print the rule normalised (-s a/32, -m udp), not as written
      const tool = iptablesTool(action);
      const check = await shell.exec([...tool, "-t", action.table, "-C", action.chain, ...action.spec]);
      const ok = check.exitCode === 0;
      return {
        record: { kind: "iptables" },
        verified: `${tool[0]} -C ${action.chain}: ${ok ? "rule present" : "rule missing"}`,
        ...(ok ? {} : { failure: unverified(shell.node, argv, `${tool[0]} -C does not find the rule`) }),
      };
    }
    case "sysctl": {
      const previous = await readSysctl(shell, action.key);
      await shell.run(argv);
      const now = await readSysctl(shell, action.key);
      const ok = now.replace(/\s+/g, " ") === action.value.replace(/\s+/g, " ");
      return {
        record: { kind: "sysctl", previous },
        verified: `${action.key} = ${now}`,
        ...(ok ? {} : { failure: unverified(shell.node, argv, `${action.key} reads ${now}`) }),
      };
    }
    case "addr": {
      const before = await readAddresses(shell, action.dev);
      await shell.run(argv);
      const after = await readAddresses(shell, action.dev);
      const ok = after.includes(action.address) === (action.verb === "add");
      const shown = `${action.dev}: ${after.join(", ") || "no IPv4 address"}`;
      return {
        record: { kind: "addr", before },
        verified: shown,
        ...(ok ? {} : { failure: unverified(shell.node, argv, shown) }),
      };
    }
    case "nft":
      return applyNft(shell, argv, action);
  }
}

export async function applyHostCommands(
  kube: KubeClient,
  snapshot: ClusterSnapshot,
  commands: { node: string; argv: string[] }[],
  opts: { execTimeoutMs?: number; onCommand?: (c: AppliedCommand) => void | Promise<void> } = {},
): Promise<HostCommandsResult> {
  const byNode = actionsByNode({ commands }); // refuses unknown commands before anything runs
  const result: HostCommandsResult = { applied: [], failures: [] };
  const perNode = await Promise.all(
    [...byNode].map(async ([node, items]) => {
      const applied: AppliedCommand[] = [];
      try {
        const shell = nodeShell(kube, snapshot, node, opts.execTimeoutMs);
        for (const { argv, action } of items) {
          const started = Date.now();
          const { record, verified, failure } = await applyOne(shell, argv, action);
          const done: AppliedCommand = { node, argv, record, verified, durationMs: Date.now() - started };
          applied.push(done);
          if (failure) throw failure;
          await opts.onCommand?.(done);
        }
        return { applied };
      } catch (err) {
        const error = isXnodeError(err)
          ? err
          : new XnodeError("FIX_FAILED", `fix on ${node} failed: ${errorMessage(err)}`, "See the rollback for what was already changed.", { cause: err });
        return { applied, failure: { node, error } };
      }
    }),
  );
  for (const p of perNode) {
    result.applied.push(...p.applied);
    if (p.failure) result.failures.push(p.failure);
  }
  return result;
}

// The agents' real binary run over given tables: `ip` and `bridge` stand-ins
// first on its PATH print the JSON a test hands over, so `xnode-agent
// overlay` can be compared with what the product and the synthetic lab make
// of the same tables without a namespace per case.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentBinaryDir } from "./agent-binary.js";

/** What `ip -j route show`, `ip -j neigh show` and `bridge -j fdb show` print. */
export interface Tables {
  route: string;
  neigh: string;
  fdb: string;
}

export interface TableReadingAgent {
  /** `launcher`: a command the binary is started through (its path and args follow). */
  run(tables: Tables, args: readonly string[], launcher?: readonly string[]): { stdout: string; stderr: string; exitCode: number | null };
  cleanup(): void;
}

export async function tableReadingAgent(): Promise<TableReadingAgent> {
  const binary = join(await agentBinaryDir(), "xnode-agent");
  const dir = mkdtempSync(join(tmpdir(), "xnode-tables-"));
  // anything but the three reads the agent makes fails, as a changed agent should
  writeFileSync(join(dir, "ip"), '#!/bin/sh\n[ "$1 $3" = "-j show" ] || exit 3\ncat "$XNODE_TABLES/$2"\n');
  writeFileSync(join(dir, "bridge"), '#!/bin/sh\n[ "$*" = "-j fdb show" ] || exit 3\ncat "$XNODE_TABLES/fdb"\n');
  for (const tool of ["ip", "bridge"]) chmodSync(join(dir, tool), 0o755);
  return {
    run(tables, args, launcher = []) {
      for (const [name, text] of Object.entries(tables)) writeFileSync(join(dir, name), text);
      const [command = binary, ...rest] = [...launcher, binary, ...args];
      const r = spawnSync(command, rest, { encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin`, XNODE_TABLES: dir } });
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// Where background labs record themselves, so `lab down` can find and remove
// them, also after the daemon crashed. /run is tmpfs: like the network
// namespaces, the records do not survive a reboot.
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface LabRecord {
  name: string;
  prefix?: string;
  pid: number;
  scenarioFile: string;
  kubeconfigPath: string;
  status: "starting" | "ready" | "failed";
  url?: string;
  token?: string;
  adminToken?: string;
  error?: string;
  startedAt: string;
  readyMs?: number;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XNODE_LAB_STATE_DIR || "/run/xnode-lab";
}

function recordPath(name: string, dir = stateDir()): string {
  return join(dir, `${name}.json`);
}

export async function writeRecord(rec: LabRecord, dir = stateDir()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // write-then-rename so a reader never sees half a file
  const tmp = `${recordPath(rec.name, dir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(rec, null, 2), { mode: 0o600 });
  await rename(tmp, recordPath(rec.name, dir));
}

export async function readRecord(name: string, dir = stateDir()): Promise<LabRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(name, dir), "utf8")) as LabRecord;
  } catch {
    return undefined;
  }
}

export async function listRecords(dir = stateDir()): Promise<LabRecord[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return [];
  }
  const recs = await Promise.all(files.filter((f) => f.endsWith(".json")).map((f) => readRecord(f.slice(0, -5), dir)));
  return recs.filter((r): r is LabRecord => r !== undefined);
}

export async function removeRecord(name: string, dir = stateDir()): Promise<void> {
  await rm(recordPath(name, dir), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

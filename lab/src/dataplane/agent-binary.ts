// The agents' own binary (deploy/agent-image/xnode-agent.c), built here with
// the same gcc flags as the image so the lab's agents run exactly what real
// agents run (`xnode-agent reach`). Built once per source version into a
// directory named after the source's hash; exec puts that directory on PATH.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL("../../../deploy/agent-image/xnode-agent.c", import.meta.url));

let built: Promise<string> | undefined;

/** The directory holding a current `xnode-agent`, compiling it first when needed. */
export function agentBinaryDir(): Promise<string> {
  built ??= build().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

async function build(): Promise<string> {
  const source = await readFile(SOURCE);
  const dir = join(tmpdir(), `xnode-agent-${createHash("sha256").update(source).digest("hex").slice(0, 12)}`);
  const binary = join(dir, "xnode-agent");
  if (
    await access(binary).then(
      () => true,
      () => false,
    )
  )
    return dir;
  await mkdir(dir, { recursive: true });
  // another lab may be building the same version: compile aside, rename into place (atomic)
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    await run("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", partial, SOURCE]);
    await rename(partial, binary);
  } catch (err) {
    await rm(partial, { force: true });
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`cannot build xnode-agent from ${SOURCE} (is gcc installed?): ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
  return dir;
}

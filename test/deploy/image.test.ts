// The bot/worker image (Dockerfile at the repository root) cannot be built
// here (no container engine), so this checks what it relies on: the
// production build compiles and runs with plain node, it imports nothing
// outside production dependencies, and the Dockerfile and .dockerignore say
// what they should.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { USAGE } from "../../src/cli.js";
import { REPO, readRepoFile } from "./render.js";

const stages = (dockerfile: string) =>
  dockerfile
    .split(/^(?=FROM )/m)
    .slice(1)
    .map((text) => ({ text, name: /^FROM \S+(?: AS (\S+))?/.exec(text)![1] }));

describe("Dockerfile", () => {
  const dockerfile = readRepoFile("Dockerfile");
  const all = stages(dockerfile);
  const final = all[all.length - 1]!;

  it("builds with dev dependencies in one stage, ships production dependencies only", () => {
    const build = all.find((s) => /RUN npm run build/.test(s.text));
    assert.ok(build?.name, "a named build stage runs npm run build");
    assert.match(build.text, /RUN npm ci\b(?!.*--omit=dev)/);
    const deps = all.find((s) => /npm ci --omit=dev/.test(s.text));
    assert.ok(deps?.name, "a named stage installs production dependencies");
    assert.match(final.text, new RegExp(`COPY --from=${deps.name} /app/node_modules ./node_modules`));
    assert.match(final.text, new RegExp(`COPY --from=${build.name} /src/dist ./dist`));
    assert.doesNotMatch(final.text, /npm (ci|install)/, "no install in the runtime stage: nothing from devDependencies can sneak in");
    assert.match(final.text, /^COPY package\.json \.\/$/m, '"type": "module" is needed at run time');
  });

  it("runs as a numeric non-root user, with node as the entrypoint", () => {
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(final.text);
    assert.ok(user && Number(user[1]) > 0, "USER <uid>:<gid>, numeric so runAsNonRoot can be verified");
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(final.text);
    assert.ok(entry);
    const argv = JSON.parse(entry[1]!) as string[];
    assert.equal(argv[0], "node");
    assert.equal(argv[argv.length - 1], "/app/dist/main.js");
  });

  it(".dockerignore admits exactly what the Dockerfile copies from the context", () => {
    const ignore = readRepoFile(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    assert.equal(ignore[0], "*", "deny by default: no node_modules, kubeconfigs or .env in the context");
    const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/)).map((p) => p.replace(/\/$/, ""));
    assert.deepEqual([...new Set(copied)].sort(), [...allowed].sort());
  });
});

describe("production build (tsconfig.build.json)", () => {
  let out = "";
  before(() => {
    // Outside the work tree, with the repository's node_modules beside it,
    // as dist/ sits next to node_modules in the image.
    const dir = mkdtempSync(join(tmpdir(), "xnode-build-"));
    out = join(dir, "dist");
    const tsc = spawnSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", join(REPO, "tsconfig.build.json"), "--outDir", out], {
      encoding: "utf8",
      cwd: REPO,
    });
    assert.equal(tsc.status, 0, `tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  });

  it("package.json's build script is that compile", () => {
    const pkg = JSON.parse(readRepoFile("package.json")) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.build, "tsc -p tsconfig.build.json");
  });

  it("node dist/main.js help prints the usage, without tsx", () => {
    const r = spawnSync(process.execPath, [join(out, "main.js"), "help"], { encoding: "utf8", env: { PATH: process.env.PATH } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${USAGE}\n`);
  });

  it("imports only node built-ins and production dependencies", () => {
    const pkg = JSON.parse(readRepoFile("package.json")) as { dependencies: Record<string, string> };
    const listing = spawnSync("find", [out, "-name", "*.js"], { encoding: "utf8" }).stdout.trim().split("\n");
    const outside: string[] = [];
    const seen = new Set<string>();
    for (const file of listing) {
      const js = readFileSync(file, "utf8");
      for (const m of js.matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm,
      )) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        seen.add(name);
        if (!(name in pkg.dependencies)) outside.push(`${relative(out, file)}: ${spec}`);
      }
    }
    assert.ok(seen.has("@kubernetes/client-node") && seen.has("@slack/bolt"), `the import scan found only ${[...seen].join(", ")}`);
    assert.deepEqual(outside, [], "these would be missing after npm ci --omit=dev");
  });
});

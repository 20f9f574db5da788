// The scenarios shipped with the lab (lab/scenarios/), by name.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of lab/scenarios/, with a trailing slash. */
export const scenariosDir = fileURLToPath(new URL("../scenarios/", import.meta.url));

/** The file of a bundled scenario: `scenarioPath("seed-virtualbox-nat")`. */
export function scenarioPath(name: string): string {
  return fileURLToPath(new URL(`../scenarios/${name}.yaml`, import.meta.url));
}

/** Names of every bundled scenario, sorted. */
export function bundledScenarios(): string[] {
  return readdirSync(scenariosDir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -5))
    .sort();
}

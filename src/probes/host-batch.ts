// Several fixed host probes in one exec: a fixed script runs each probe's
// command in turn and prints its stdout, exit code and first stderr line
// between markers, so a check costs one exec per node for all of its host
// reads instead of one per probe. The commands are the probes' own argv
// (constant, but for the overlay read's expected count and hash, which are
// digits), passed as positional parameters and word-split by the script, so
// they may hold no whitespace or glob characters.
import { XnodeError } from "../errors.js";
import { ProbeOutputError } from "./probe.js";

export interface BatchCommand {
  name: string;
  argv: string[];
}

export interface BatchSection {
  exitCode: number;
  stdout: string;
  /** the command's first stderr line, "" when it printed none */
  stderr: string;
}

const name = "host-batch";
const SECTION = "XNODE-SECTION";
const STDERR = "XNODE-STDERR";

// $1 name, $2 the command's words, repeated
const script = `set -f
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
while [ "$#" -ge 2 ]; do
  $2 >"$d/out" 2>"$d/err"
  echo "${SECTION} $1 $?"
  cat "$d/out"
  echo
  echo "${STDERR} $1 $(head -n 1 "$d/err")"
  shift 2
done
`;

const wordPattern = /^[A-Za-z0-9_./:=@+-]+$/;
const namePattern = /^[a-z0-9-]+$/;

export function batchArgv(commands: readonly BatchCommand[]): string[] {
  const params = commands.flatMap(({ name: n, argv }) => {
    const bad = argv.find((w) => !wordPattern.test(w));
    if (!namePattern.test(n) || bad !== undefined || argv.length === 0) {
      throw new XnodeError(
        "PROBE_INPUT_INVALID",
        `${name}: probe ${JSON.stringify(n)} cannot run in a batch (${JSON.stringify(bad ?? n)})`,
        "This is a bug in xnode.",
      );
    }
    return [n, argv.join(" ")];
  });
  return ["sh", "-c", script, name, ...params];
}

/** Each command's output by name; a command the script never reached is missing. */
export function parseBatch(stdout: string): Map<string, BatchSection> {
  const sections = new Map<string, BatchSection>();
  let current: { name: string; exitCode: number; lines: string[] } | undefined;
  for (const line of stdout.split("\n")) {
    if (!current) {
      const m = new RegExp(`^${SECTION} (\\S+) (\\d+)$`).exec(line);
      if (m) current = { name: m[1]!, exitCode: Number(m[2]), lines: [] };
      else if (line.trim() !== "") throw new ProbeOutputError(name, "output outside a section", line);
      continue;
    }
    if (line.startsWith(`${STDERR} ${current.name}`)) {
      // the script echoes one newline after each output: joining the lines gives the output back
      sections.set(current.name, { exitCode: current.exitCode, stdout: current.lines.join("\n"), stderr: line.slice(STDERR.length + current.name.length + 2) });
      current = undefined;
    } else current.lines.push(line);
  }
  if (current) throw new ProbeOutputError(name, `section ${current.name} is cut short`, stdout.slice(-120));
  return sections;
}

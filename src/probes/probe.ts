// A probe is one command run by an agent on a node and a pure parser of its
// output. Probes never interpret what they see: diagnosis does that.
import { errorMessage, XnodeError } from "../errors.js";

export type AgentKind = "host" | "pod";

export interface Probe<Input, Output> {
  /** stable name, used in evidence lines and errors */
  readonly name: string;
  readonly agent: AgentKind;
  argv(input: Input): string[];
  /** what the command reads on stdin, if anything: data that must not travel in argv (the exec URL) */
  stdin?(input: Input): string;
  /** pure; throws ProbeOutputError on output it cannot understand */
  parse(stdout: string, input: Input): Output;
}

export class ProbeOutputError extends XnodeError {
  constructor(probe: string, detail: string, sample: string) {
    super(
      "PROBE_OUTPUT_INVALID",
      `probe ${probe} got output it cannot read: ${detail}${sample ? ` (output began: ${JSON.stringify(sample.slice(0, 120))})` : " (output was empty)"}`,
      "Check that the agent image has the expected tools (iproute2 with JSON output, iptables, ping, curl).",
    );
  }
}

/** JSON.parse for a tool's whole output, with a probe-specific error. */
export function parseJsonOutput(probe: string, stdout: string): unknown {
  const text = stdout.trim();
  if (text === "") throw new ProbeOutputError(probe, "no output", "");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProbeOutputError(probe, `not JSON (${errorMessage(err)})`, text);
  }
}

/** parseJsonOutput for `ip -j`/`bridge -j` output, which is an array. */
export function parseJsonArray(probe: string, stdout: string): unknown[] {
  const data = parseJsonOutput(probe, stdout);
  if (!Array.isArray(data)) throw new ProbeOutputError(probe, "expected a JSON array", stdout.trim());
  return data;
}

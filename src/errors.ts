// Every error xnode raises on purpose: a string code (stable across Redis and
// process boundaries, where instanceof is lost), the original cause, and a
// `hint` written for the operator who reads it in Slack or a terminal.
import type { ZodError } from "zod";

export type ErrorCode =
  | "CONFIG_INVALID"
  | "CLUSTER_UNKNOWN"
  | "KUBECONFIG_INVALID"
  | "KUBE_UNREACHABLE"
  | "KUBE_UNAUTHORIZED"
  | "KUBE_FORBIDDEN"
  | "KUBE_NOT_FOUND"
  | "KUBE_CONFLICT"
  | "KUBE_REQUEST_FAILED"
  | "EXEC_TIMEOUT"
  | "EXEC_FAILED"
  | "AGENT_MISSING"
  | "FLANNEL_NOT_FOUND"
  | "PROBE_OUTPUT_INVALID"
  | "PROBE_FAILED"
  | "PROBE_INPUT_INVALID"
  | "STORE_INVALID"
  | "CHECK_BUSY"
  | "CHECK_TIMEOUT"
  | "SLACK_NOT_IN_CHANNEL"
  | "SLACK_SCOPE_MISSING"
  | "SLACK_LOOKUP_FAILED"
  | "REDIS_UNREACHABLE"
  | "FIX_ABORTED"
  | "FIX_FAILED"
  | "ROLLOUT_TIMEOUT"
  | "CONVERGENCE_TIMEOUT"
  | "FIX_REVERTED";

export class XnodeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;

  constructor(code: ErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "XnodeError";
    this.code = code;
    this.hint = hint;
  }

  /** One line for a person: what happened, then what to try. */
  describe(): string {
    return `${this.message}. ${this.hint}`;
  }
}

export function isXnodeError(err: unknown): err is XnodeError {
  return err instanceof XnodeError || (err instanceof Error && err.name === "XnodeError" && "code" in err);
}

/** Best-effort message for anything thrown, including non-Errors; an XnodeError's hint included. */
export function errorMessage(err: unknown): string {
  if (isXnodeError(err)) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}

/** What went wrong and what to try, apart: an XnodeError's own hint, `fallbackHint` for anything else. */
export function errorParts(err: unknown, fallbackHint: string): { message: string; hint: string } {
  return isXnodeError(err) ? { message: err.message, hint: err.hint } : { message: errorMessage(err), hint: fallbackHint };
}

/** The first problem a zod schema found, as "path: message", for an operator's error line. */
export function firstIssue(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return `${issue.path.length > 0 ? issue.path.join(".") : "top level"}: ${issue.message}`;
}

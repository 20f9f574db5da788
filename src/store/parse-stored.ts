// Data read back from Redis, checked against the schema it was written with:
// a record from another xnode version, or a hand edit, fails here with its
// name, not deep inside a renderer with "cannot read properties of undefined".
import type { z } from "zod";
import { firstIssue, XnodeError } from "../errors.js";

const HINT = "The record was written by another xnode version or is corrupt; re-run the check.";

/** `data` as `schema` reads it; `what` names the record for the operator, e.g. "report of check 1234". */
export function validStored<S extends z.ZodTypeAny>(schema: S, data: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new XnodeError("STORE_INVALID", `the stored ${what} does not match this version of xnode (${firstIssue(parsed.error)})`, HINT, { cause: parsed.error });
}

/** `raw` decoded as JSON, then as validStored reads it. */
export function parseStored<S extends z.ZodTypeAny>(schema: S, raw: string, what: string): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw new XnodeError("STORE_INVALID", `the stored ${what} is not JSON`, HINT, { cause: err });
  }
  return validStored(schema, data, what);
}

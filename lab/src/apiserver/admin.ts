// /_lab/* endpoints for tests, behind their own token: the request log,
// authorization rules and exec hangs. They are not part of the Kubernetes API
// and are never logged or authorized as API requests.
import { z } from "zod";
import { Authorizer, authzBodySchema } from "./authz.js";
import { ApiError, badRequest } from "./errors.js";

export interface RequestRecord {
  time: string;
  method: string;
  path: string;
  /** Query parameters; repeated ones (exec's `command`) as arrays. */
  query: Record<string, string | string[]>;
  /** Kubernetes verb, or the lowercase HTTP method for non-resource URLs. */
  verb: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** HTTP status; 101 for an exec that upgraded to WebSocket. */
  status: number;
  /** an exec: milliseconds from the upgrade until its connection closed */
  durationMs?: number;
  /** Authenticated user; undefined when authentication failed. */
  user?: string;
  userAgent?: string;
}

const execHangSchema = z.object({ namespace: z.string().min(1), pod: z.string().min(1), hang: z.boolean() }).strict();

export class LabControl {
  readonly requests: RequestRecord[] = [];
  readonly authorizer = new Authorizer();
  private readonly hangs = new Set<string>();

  execHangs(namespace: string, pod: string): boolean {
    return this.hangs.has(`${namespace}/${pod}`);
  }

  /** Answers an admin request: the response body, or null for 204. */
  handle(method: string, path: string, body: string): unknown {
    const route = `${method} ${path}`;
    switch (route) {
      case "GET /_lab/requests":
        return this.requests;
      case "DELETE /_lab/requests":
        this.requests.length = 0;
        return null;
      case "POST /_lab/authz": {
        const { rules } = parse(authzBodySchema, body);
        this.authorizer.setRules(rules);
        return { rules };
      }
      case "POST /_lab/exec-hang": {
        const { namespace, pod, hang } = parse(execHangSchema, body);
        if (hang) this.hangs.add(`${namespace}/${pod}`);
        else this.hangs.delete(`${namespace}/${pod}`);
        return { namespace, pod, hang };
      }
      default:
        throw new ApiError(404, "NotFound", `no lab endpoint ${route}`);
    }
  }
}

function parse<T>(schema: z.ZodType<T>, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new ApiError(400, "BadRequest", `body is not JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  const result = schema.safeParse(json);
  if (!result.success) throw badRequest(result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  return result.data;
}

// Turns client-node and socket failures into XnodeErrors that name the
// resource, the verb and what to do about it.
import { z } from "zod";
import { XnodeError } from "../errors.js";

export interface RequestDescription {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  cluster: string;
}

function where(d: RequestDescription): string {
  const obj = d.name ? `${d.resource} "${d.name}"` : d.resource;
  return d.namespace ? `${obj} in namespace ${d.namespace}` : obj;
}

// The API server's Status object; only its message is read.
const statusSchema = z.object({ message: z.string() });

function statusMessage(body: unknown): string | undefined {
  let data = body;
  if (typeof body === "string") {
    try {
      data = JSON.parse(body);
    } catch {
      return body || undefined;
    }
  }
  const status = statusSchema.safeParse(data);
  return status.success ? status.data.message : undefined;
}

export function translateKubeError(err: unknown, d: RequestDescription): XnodeError {
  const e = err as { code?: number | string; body?: unknown; message?: string; cause?: { code?: string } };
  const detail = statusMessage(e.body) ?? e.message ?? String(err);
  const what = `${d.verb} ${where(d)} on cluster ${d.cluster}`;
  switch (e.code) {
    case 401:
      return new XnodeError(
        "KUBE_UNAUTHORIZED",
        `cannot ${what}: the API server rejected xnode's credentials`,
        "Check the token or client certificate in this cluster's kubeconfig.",
        { cause: err },
      );
    case 403:
      return new XnodeError(
        "KUBE_FORBIDDEN",
        `cannot ${what}: forbidden (${detail})`,
        `Grant xnode's service account "${d.verb}" on ${d.resource}${d.namespace ? ` in ${d.namespace}` : ""} (see deploy/ RBAC).`,
        { cause: err },
      );
    case 404:
      return new XnodeError("KUBE_NOT_FOUND", `cannot ${what}: not found`, "Check the name and namespace.", { cause: err });
    case 409:
      return new XnodeError(
        "KUBE_CONFLICT",
        `cannot ${what}: it changed since it was read (${detail})`,
        "Re-run the check to plan against the current state.",
        { cause: err },
      );
    case 422:
      return new XnodeError("KUBE_CONFLICT", `cannot ${what}: precondition failed (${detail})`, "Re-run the check to plan against the current state.", {
        cause: err,
      });
  }
  const sys = typeof e.code === "string" ? e.code : e.cause?.code;
  if (sys && ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH"].includes(sys)) {
    return new XnodeError(
      "KUBE_UNREACHABLE",
      `cannot reach the API server of cluster ${d.cluster} (${sys})`,
      "Check the server address in the kubeconfig and the network path to it.",
      { cause: err },
    );
  }
  return new XnodeError("KUBE_REQUEST_FAILED", `cannot ${what}: ${detail}`, "Retry; if it persists, check the API server's health.", { cause: err });
}

// Exec over the Kubernetes WebSocket protocol with a hard timeout, collecting
// stdout, stderr and the exit code from the status channel.
import { Readable, Writable } from "node:stream";
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";
import { errorMessage, XnodeError } from "../errors.js";
import type { ExecTarget } from "../model/index.js";
import type { ExecResult } from "./types.js";

export type { ExecTarget };

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === "Success") return 0;
  if (status.reason === "NonZeroExitCode") {
    const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number(cause?.message);
    return Number.isInteger(code) ? code : 1;
  }
  return undefined;
}

/**
 * A refused WebSocket handshake (ws: "Unexpected server response: 403") as the API error it is: what
 * the API server said no to and what to grant or fix. ws hands over an ErrorEvent, not an Error.
 */
function handshakeError(e: unknown, target: ExecTarget): XnodeError {
  const reported = (e as { message?: unknown } | undefined)?.message;
  const message = typeof reported === "string" ? reported : errorMessage(e);
  const status = Number(/Unexpected server response: (\d{3})/.exec(message)?.[1]);
  const where = `${target.label} (pod ${target.namespace}/${target.pod})`;
  const sys = (e as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (typeof sys === "string" && ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT"].includes(sys)) {
    return new XnodeError(
      "KUBE_UNREACHABLE",
      `cannot reach the API server to exec into ${where} (${sys})`,
      "Check that the API server is up, the server address in the kubeconfig, and the network path to it.",
      { cause: e },
    );
  }
  switch (status) {
    case 401:
      return new XnodeError(
        "KUBE_UNAUTHORIZED",
        `cannot exec into ${where}: the API server rejected xnode's credentials`,
        "Check the token or client certificate in this cluster's kubeconfig.",
        { cause: e },
      );
    case 403:
      return new XnodeError(
        "KUBE_FORBIDDEN",
        `cannot exec into ${where}: forbidden (HTTP 403)`,
        `Grant xnode's service account "create" on pods/exec in namespace ${target.namespace} (see deploy/ RBAC).`,
        { cause: e },
      );
    case 404:
      return new XnodeError(
        "KUBE_NOT_FOUND",
        `cannot exec into ${where}: the pod is gone (HTTP 404)`,
        `Re-run the check (it looks the agents up again); if this persists, check that the xnode agent DaemonSets run on every node: kubectl -n ${target.namespace} get daemonsets.`,
        { cause: e },
      );
  }
  return new XnodeError("EXEC_FAILED", `cannot exec into ${where}: ${message}`, "Check that xnode may create pods/exec in that namespace and the pod exists.", {
    cause: e,
  });
}

export async function execCommand(kc: KubeConfig, target: ExecTarget, argv: string[], timeoutMs: number, stdin?: string): Promise<ExecResult> {
  const started = Date.now();
  const out = collector();
  const err = collector();
  let socket: { close(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      timer = setTimeout(() => {
        const seconds = Math.round(timeoutMs / 1000);
        // No socket yet: the API server (or the kubelet behind it) never opened the exec; else the agent is silent.
        const silent = socket
          ? new XnodeError(
              "EXEC_TIMEOUT",
              `${target.label} (pod ${target.namespace}/${target.pod}) did not answer \`${argv[0]}\` within ${seconds} s`,
              "Check that the node is up and the agent pod is Running; its results are missing from this report.",
            )
          : new XnodeError(
              "EXEC_TIMEOUT",
              `the API server did not open an exec into ${target.label} (pod ${target.namespace}/${target.pod}) within ${seconds} s`,
              "Check the API server's health (kubectl get --raw /readyz) and the kubelet on that node; its results are missing from this report.",
            );
        socket?.close();
        reject(silent);
      }, timeoutMs);
      const onStatus = (status: V1Status) => {
        const exitCode = exitCodeOf(status);
        if (exitCode === undefined) {
          reject(
            new XnodeError(
              "EXEC_FAILED",
              `exec into ${target.label} failed: ${status.message ?? status.reason ?? "unknown error"}`,
              "Check that the agent pod is Running and has the command.",
            ),
          );
          return;
        }
        resolve({ stdout: out.text(), stderr: err.text(), exitCode, durationMs: Date.now() - started });
      };
      new Exec(kc)
        // stdin ends with the v5 close frame, so the command sees EOF after the last target
        .exec(
          target.namespace,
          target.pod,
          target.container ?? "",
          argv,
          out.stream,
          err.stream,
          stdin === undefined ? null : Readable.from([stdin]),
          false,
          onStatus,
        )
        .then((ws) => {
          socket = ws;
          ws.on("close", () => {
            // status arrives before close; reaching here unresolved means the stream died
            setImmediate(() =>
              reject(
                new XnodeError(
                  "EXEC_FAILED",
                  `exec into ${target.label} closed without an exit status`,
                  "Retry; check the API server and kubelet logs if it persists.",
                ),
              ),
            );
          });
        })
        .catch((e: unknown) => reject(handshakeError(e, target)));
    });
  } finally {
    clearTimeout(timer);
  }
}

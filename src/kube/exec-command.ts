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

export async function execCommand(kc: KubeConfig, target: ExecTarget, argv: string[], timeoutMs: number, stdin?: string): Promise<ExecResult> {
  const started = Date.now();
  const out = collector();
  const err = collector();
  let socket: { close(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      timer = setTimeout(() => {
        socket?.close();
        reject(
          new XnodeError(
            "EXEC_TIMEOUT",
            `${target.label} (pod ${target.namespace}/${target.pod}) did not answer \`${argv[0]}\` within ${Math.round(timeoutMs / 1000)} s`,
            "Check that the node is up and the agent pod is Running; its results are missing from this report.",
          ),
        );
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
        .catch((e: unknown) => {
          const code = (e as { statusCode?: number; code?: number }).statusCode;
          reject(
            new XnodeError(
              "EXEC_FAILED",
              `cannot exec into ${target.label} (pod ${target.namespace}/${target.pod}): ${errorMessage(e)}${code ? ` (HTTP ${code})` : ""}`,
              "Check that xnode may create pods/exec in that namespace and the pod exists.",
              { cause: e },
            ),
          );
        });
    });
  } finally {
    clearTimeout(timer);
  }
}

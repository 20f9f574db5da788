// Probes turn a failed exec into a gap in the evidence, which is right for a
// node that does not answer. An API server that refuses xnode (credentials
// rejected, pods/exec not granted) or cannot be reached at all is no fact about
// the network, though: this KubeClient remembers the first such failure, so
// the check can end saying what to grant or fix instead of reporting every
// node "unexplained".
import { isXnodeError, XnodeError, type ErrorCode } from "../errors.js";
import type { KubeClient } from "./kube-client.js";

const API_FAILURES: ErrorCode[] = ["KUBE_UNAUTHORIZED", "KUBE_FORBIDDEN", "KUBE_UNREACHABLE"];
/** how long the API server may take to answer GET /version after an exec stalled */
const PING_TIMEOUT_MS = 3000;

export interface WatchedKube {
  kube: KubeClient;
  /** the first exec the API server refused or could not be reached for, if any */
  apiFailure(): XnodeError | undefined;
}

export function watchApiFailures(kube: KubeClient): WatchedKube {
  let failure: XnodeError | undefined;
  // Execs that stall together (a whole cluster's, when the API server hangs) share one GET /version.
  let ping: Promise<unknown> | undefined;
  const apiAnswers = (): Promise<unknown> => (ping ??= kube.ping(PING_TIMEOUT_MS).finally(() => (ping = undefined)));
  const exec: KubeClient["exec"] = async (...args) => {
    try {
      return await kube.exec(...args);
    } catch (err) {
      if (isXnodeError(err) && API_FAILURES.includes(err.code)) failure ??= err;
      // A stalled exec is the agent's silence, or the API server's: only the latter stops answering /version too.
      if (isXnodeError(err) && err.code === "EXEC_TIMEOUT" && !failure) {
        await apiAnswers().catch((cause: unknown) => {
          failure ??= new XnodeError(
            "KUBE_UNREACHABLE",
            `the API server of cluster ${kube.cluster} stopped answering during the check: ${err.message}, and GET /version got no answer within ${PING_TIMEOUT_MS / 1000} s`,
            "Check the API server's health (kubectl get --raw /readyz) and the network path to it, then re-run the check.",
            { cause },
          );
        });
      }
      throw err;
    }
  };
  // Everything else as it is: the watched client inherits from the real one.
  return { kube: Object.assign(Object.create(kube) as KubeClient, { exec }), apiFailure: () => failure };
}

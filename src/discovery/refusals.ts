// Requests discovery was refused (403): recorded with the deploy/ piece that
// grants them, so "no flannel found" is never said when xnode was not allowed
// to look. Any other failure (unreachable API server, timeout) still throws.
import { isXnodeError } from "../errors.js";

export class Refusals {
  readonly requests: string[] = [];

  /** `request` in RBAC words: `get daemonsets "kube-flannel" in kube-system`. */
  async read<T>(request: string, grantedBy: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (!isXnodeError(err) || err.code !== "KUBE_FORBIDDEN") throw err;
      this.requests.push(`${request} (granted by ${grantedBy})`);
      return undefined;
    }
  }
}

export function describeGet(resource: string, name: string, namespace: string): string {
  return `get ${resource} "${name}" in ${namespace}`;
}

// A kubeconfig for the lab cluster in the shape kind writes: the CA inline as
// certificate-authority-data (so TLS is verified, never skipped), a token user
// and one context that is also the current one.
import { stringify } from "yaml";

export interface KubeconfigInput {
  /** Cluster and context name. */
  name: string;
  /** https://127.0.0.1:PORT */
  server: string;
  caPem: string;
  token: string;
  /** User entry name; defaults to `name`. */
  user?: string;
}

export function renderKubeconfig({ name, server, caPem, token, user = name }: KubeconfigInput): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name, context: { cluster: name, user } }],
    "current-context": name,
    preferences: {},
  });
}

// client-node opens a new WebSocket per exec, and Node builds a new TLS
// context for each from the kubeconfig's CA and client certificate: parsing
// them again is most of an exec's own CPU, and a check makes three execs per
// node. This KubeConfig hands every exec the same context while the TLS
// material stays the same (an exec credential plugin that rotates the client
// certificate gets a new one).
import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import type { KubeConfig } from "@kubernetes/client-node";

// What tls.connect would build its context from.
const CONTEXT_FIELDS = [
  "ca",
  "cert",
  "key",
  "pfx",
  "passphrase",
  "crl",
  "ciphers",
  "ecdhCurve",
  "honorCipherOrder",
  "secureOptions",
  "secureProtocol",
  "minVersion",
  "maxVersion",
  "sessionIdContext",
  "dhparam",
] as const satisfies readonly (keyof SecureContextOptions)[];

export function withReusedTlsContext(kc: KubeConfig): KubeConfig {
  let cached: { material: string; context: SecureContext } | undefined;
  const reusing = Object.create(kc) as KubeConfig;
  reusing.applyToHTTPSOptions = async (opts) => {
    await kc.applyToHTTPSOptions.call(reusing, opts);
    const options = opts as SecureContextOptions & { secureContext?: SecureContext };
    const fields = Object.fromEntries(CONTEXT_FIELDS.filter((f) => options[f] !== undefined).map((f) => [f, options[f]]));
    const material = JSON.stringify(fields);
    if (cached?.material !== material) cached = { material, context: createSecureContext(fields) };
    options.secureContext = cached.context;
  };
  return reusing;
}

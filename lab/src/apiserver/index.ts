// "@xnode/lab/apiserver": the emulated Kubernetes API server on its own, for
// tests that need an API without a data plane behind it.
export { authzBodySchema, type AuthzRule } from "./authz.js";
export { makeCertificates, type Certificates } from "./certs.js";
export { renderKubeconfig, type KubeconfigInput } from "./kubeconfig.js";
export { startApiServer, type ApiServer, type ApiServerOptions, type RequestRecord } from "./server.js";
export { ObjectStore, type K8sObject, type StoreEvent } from "./store.js";

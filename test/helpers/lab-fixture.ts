// Shared by tests that need a lab cluster: the lab package's test helpers
// (start/stop a lab in-process with its kubeconfig on disk, kubectl against
// it, the /_lab admin endpoints), under the name xnode's tests have used.
export * from "@xnode/lab/testing";

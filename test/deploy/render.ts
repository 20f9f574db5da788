// Renders deploy/ the way an operator applies it: the real `kubectl
// kustomize`, once per directory per test process.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Every kustomization an operator may apply, and what each is for. */
export const KUSTOMIZATIONS = ["deploy/cluster", "deploy/base", "deploy/overlays/default", "deploy/overlays/external-redis"] as const;
/** The install the README walks through; its RBAC is what rbac-rules.ts exports. */
export const DEFAULT_OVERLAY = "deploy/overlays/default";

const run = promisify(execFile);
const cache = new Map<string, Promise<K8sObject[]>>();

export function parseYamlObjects(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS() as K8sObject | null;
    return value ? [value] : [];
  });
}

/** `dir` relative to the repository, or absolute (temporary overlays). */
export function render(dir: string): Promise<K8sObject[]> {
  let rendered = cache.get(dir);
  if (!rendered) {
    rendered = run("kubectl", ["kustomize", isAbsolute(dir) ? dir : join(REPO, dir)], { maxBuffer: 32 * 1024 * 1024 }).then(
      ({ stdout }) => parseYamlObjects(stdout, `kubectl kustomize ${dir}`),
      (err: NodeJS.ErrnoException & { stderr?: string }) => {
        if (err.code === "ENOENT") throw new Error("kubectl is not installed; scripts/install-prerequisites.sh installs it");
        throw new Error(`kubectl kustomize ${dir} failed: ${err.stderr ?? err.message}`);
      },
    );
    cache.set(dir, rendered);
  }
  return rendered;
}

/**
 * An overlay written to a temporary directory: base plus components, the
 * combinations an operator makes by editing an overlay's `components:`.
 */
const variants = new Map<string, string>();
export function renderVariant(components: string[], resources = ["deploy/base"]): Promise<K8sObject[]> {
  const key = JSON.stringify([components, resources]);
  const known = variants.get(key);
  if (known) return render(known);
  const dir = mkdtempSync(join(tmpdir(), "xnode-overlay-"));
  // kustomize takes no absolute roots: refer to the repository relatively.
  const abs = (p: string) => relative(dir, join(REPO, p));
  writeFileSync(
    join(dir, "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      ...resources.map((r) => `  - ${abs(r)}`),
      "components:",
      ...components.map((c) => `  - ${abs(c)}`),
      "",
    ].join("\n"),
  );
  variants.set(key, dir);
  return render(dir);
}

export function find(objects: K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ""}${name} in the rendered manifests`);
  return found;
}

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO, path), "utf8");
}

/** Files under a repository folder, as repository-relative paths. */
export function listFiles(dir: string): string[] {
  const walk = (abs: string): string[] =>
    readdirSync(abs).flatMap((entry) => {
      const path = join(abs, entry);
      return statSync(path).isDirectory() ? walk(path) : [relative(REPO, path)];
    });
  return walk(join(REPO, dir)).sort();
}

// Just enough of the pod spec for the checks in these tests.
export interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } };
  }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: SecurityContext;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
export interface Probe {
  tcpSocket?: { port: number | string };
  httpGet?: { path?: string; port: number | string };
  exec?: { command: string[] };
}
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
  sysctls?: Array<{ name: string; value: string }>;
}
export interface PodSpec {
  hostNetwork?: boolean;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
  tolerations?: Array<{ key?: string; operator?: string; effect?: string; value?: string }>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
    projected?: { sources: Array<{ configMap?: { name: string }; secret?: { name: string; optional?: boolean } }> };
  }>;
}
export interface Workload extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export function workloads(objects: K8sObject[]): Workload[] {
  return objects.filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet") as Workload[];
}

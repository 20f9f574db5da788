// In-memory object store with the parts of etcd+apiserver semantics clients
// notice: one global resourceVersion counter, optimistic concurrency,
// metadata.generation bumps on DaemonSet spec changes, no-op updates that do
// not bump anything, and change events (plus a short history for watches).
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { alreadyExists, badRequest, conflict, invalid, notFound } from "./errors.js";
import { apiVersionOf, kindInfo, type KindInfo } from "./kinds.js";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // Specs and statuses are free-form JSON here; `any` keeps nested reads
  // (ds.spec.template.spec.containers[0].args) short in lab code and tests.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  status?: any;
  [key: string]: unknown;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: ChangeType;
  kind: string;
  object: K8sObject;
  /** The object before the change; undefined for ADDED. */
  old: K8sObject | undefined;
}

export interface WriteOptions {
  /** Compute and return the result without storing it or emitting events. */
  dryRun?: boolean;
  /** Keep the stored status (REST writes to the main resource cannot change status). */
  keepStatus?: boolean;
}

/** Enough recent events for a watch that starts at a slightly old resourceVersion. */
const HISTORY_LIMIT = 1000;

export class ObjectStore extends EventEmitter {
  private readonly objects = new Map<string, K8sObject>();
  private readonly history: StoreEvent[] = [];
  private revision = 0;

  constructor() {
    super();
    // Every open watch adds a listener; dozens are normal, not a leak.
    this.setMaxListeners(0);
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  create(input: K8sObject, options: WriteOptions = {}): K8sObject {
    const info = kindInfo(input.kind);
    const obj = structuredClone(input);
    const { name, namespace } = obj.metadata ?? {};
    if (!name) throw invalid(`${info.kind} "": name: Required value: name is required`);
    if (info.namespaced && !namespace) throw badRequest(`${info.kind} "${name}": the namespace of the object must be set`);
    if (!info.namespaced) delete obj.metadata.namespace;
    const key = keyOf(info, namespace, name);
    if (this.objects.has(key)) throw alreadyExists(info.group, info.resource, name);
    obj.apiVersion = apiVersionOf(info);
    obj.metadata.uid = randomUUID();
    // Seeds may backdate creationTimestamp so ages in `kubectl get` look real.
    obj.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    if (info.kind === "DaemonSet") obj.metadata.generation = 1;
    if (options.dryRun) return obj;
    obj.metadata.resourceVersion = this.nextRevision();
    this.objects.set(key, obj);
    this.record({ type: "ADDED", kind: info.kind, object: obj, old: undefined });
    return structuredClone(obj);
  }

  get(kind: string, namespace: string | undefined, name: string): K8sObject | undefined {
    const obj = this.peek(kind, namespace, name);
    return obj && structuredClone(obj);
  }

  /** Objects of a kind, sorted by namespace then name (etcd key order). */
  list(kind: string, namespace?: string): K8sObject[] {
    return this.peekList(kind, namespace).map((obj) => structuredClone(obj));
  }

  /**
   * The stored object itself, for a reader that only looks at it or sends it
   * (the REST reads, exec's pod lookup): a write replaces a stored object
   * instead of changing it, so it stays as it was read. Copying every pod of
   * a 5,000-node cluster on each list or exec would cost seconds a check.
   */
  peek(kind: string, namespace: string | undefined, name: string): Readonly<K8sObject> | undefined {
    return this.objects.get(keyOf(kindInfo(kind), namespace, name));
  }

  /** list() without the copies, on peek()'s terms. */
  peekList(kind: string, namespace?: string): readonly Readonly<K8sObject>[] {
    const info = kindInfo(kind);
    const prefix = info.namespaced && namespace ? `${info.kind}/${namespace}/` : `${info.kind}/`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => obj);
  }

  /**
   * Read-modify-write. `mutate` edits a copy in place or returns a whole new
   * object (PUT/patch results). If the result names a resourceVersion other
   * than the stored one the write fails with 409 Conflict.
   */
  update(kind: string, namespace: string | undefined, name: string, mutate: (draft: K8sObject) => K8sObject | void, options: WriteOptions = {}): K8sObject {
    const info = kindInfo(kind);
    const key = keyOf(info, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(info.group, info.resource, name);
    const draft = structuredClone(current);
    const next = structuredClone(mutate(draft) ?? draft);
    if (next.kind !== current.kind) throw badRequest(`kind cannot be changed from ${current.kind} to ${String(next.kind)}`);
    if (next.metadata?.name !== current.metadata.name || (next.metadata.namespace ?? undefined) !== current.metadata.namespace) {
      throw badRequest(`the name of the object (${String(next.metadata?.name)}) does not match the name on the URL (${name})`);
    }
    const wanted = next.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== "" && wanted !== current.metadata.resourceVersion) {
      throw conflict(info.group, info.resource, name);
    }
    next.apiVersion = current.apiVersion;
    next.metadata.uid = current.metadata.uid;
    next.metadata.creationTimestamp = current.metadata.creationTimestamp;
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (options.keepStatus) {
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
    }
    if (info.kind === "DaemonSet") {
      const generation = current.metadata.generation ?? 1;
      next.metadata.generation = isDeepStrictEqual(next.spec, current.spec) ? generation : generation + 1;
    }
    // Like the real apiserver, an update that changes nothing is not a write.
    if (isDeepStrictEqual(next, current) || options.dryRun) return next;
    next.metadata.resourceVersion = this.nextRevision();
    this.objects.set(key, next);
    this.record({ type: "MODIFIED", kind: info.kind, object: next, old: current });
    return structuredClone(next);
  }

  /** PUT semantics: replace the whole object (resourceVersion, if set, must match). */
  replace(obj: K8sObject, options: WriteOptions = {}): K8sObject {
    return this.update(obj.kind, obj.metadata?.namespace, obj.metadata?.name, () => obj, options);
  }

  delete(kind: string, namespace: string | undefined, name: string, options: WriteOptions = {}): K8sObject {
    const info = kindInfo(kind);
    const key = keyOf(info, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(info.group, info.resource, name);
    if (options.dryRun) return structuredClone(current);
    this.objects.delete(key);
    const gone = structuredClone(current);
    gone.metadata.resourceVersion = this.nextRevision();
    this.record({ type: "DELETED", kind: info.kind, object: gone, old: current });
    return structuredClone(gone);
  }

  /**
   * Events after `resourceVersion`, oldest first, or undefined when the
   * history no longer reaches back that far (the watch then gets 410 Gone).
   */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    const oldest = this.history[0];
    if (oldest && Number(oldest.object.metadata.resourceVersion) > resourceVersion + 1 && this.history.length >= HISTORY_LIMIT) {
      return undefined;
    }
    return this.history.filter((e) => Number(e.object.metadata.resourceVersion) > resourceVersion).map((e) => structuredClone(e));
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    this.emit("change", structuredClone(event));
  }
}

function keyOf(info: KindInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${info.kind}/${namespace ?? ""}/${name}` : `${info.kind}//${name}`;
}

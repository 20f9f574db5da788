// ?watch=true: newline-delimited JSON events on a chunked response, with the
// real watch cache's rules — no resourceVersion (or "0") starts with ADDED for
// every current object, an older one replays history (410 Gone when it is too
// old), and an object that stops matching the selector arrives as DELETED.
import type { ServerResponse } from "node:http";
import { ApiError } from "./errors.js";
import type { KindInfo } from "./kinds.js";
import type { Predicate } from "./selectors.js";
import type { K8sObject, ObjectStore, StoreEvent } from "./store.js";

export interface WatchRequest {
  info: KindInfo;
  namespace: string | undefined;
  matches: Predicate;
  resourceVersion: string | null;
  timeoutSeconds: number | undefined;
  /** Wraps each object before it is sent (Table rows for kubectl get -w). */
  render: (obj: K8sObject) => unknown;
}

type Sendable = { type: StoreEvent["type"]; object: K8sObject };

export function serveWatch(store: ObjectStore, res: ServerResponse, w: WatchRequest): void {
  const inScope = (obj: K8sObject) => !w.info.namespaced || !w.namespace || obj.metadata.namespace === w.namespace;
  const visible = (obj: K8sObject | undefined) => obj !== undefined && inScope(obj) && w.matches(obj);

  const translate = (ev: StoreEvent): Sendable | undefined => {
    if (ev.kind !== w.info.kind) return undefined;
    const now = visible(ev.object);
    const before = visible(ev.old);
    if (ev.type === "MODIFIED" && now && !before) return { type: "ADDED", object: ev.object };
    if (ev.type === "MODIFIED" && !now && before) return { type: "DELETED", object: ev.object };
    return ev.type === "DELETED" ? (before ? ev : undefined) : now ? ev : undefined;
  };
  const write = (ev: Sendable) => res.write(`${JSON.stringify({ type: ev.type, object: w.render(ev.object) })}\n`);

  let backlog: Sendable[];
  if (w.resourceVersion === null || w.resourceVersion === "" || w.resourceVersion === "0") {
    backlog = store
      .list(w.info.kind, w.namespace)
      .filter(visible)
      .map((object) => ({ type: "ADDED", object }));
  } else {
    const since = Number(w.resourceVersion);
    const history = Number.isInteger(since) ? store.eventsSince(since) : undefined;
    if (!history) {
      const gone = new ApiError(410, "Gone", `too old resource version: ${w.resourceVersion} (${store.resourceVersion})`);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(`${JSON.stringify({ type: "ERROR", object: gone.toStatus() })}\n`);
      return;
    }
    backlog = history.map(translate).filter((e): e is Sendable => e !== undefined);
  }

  res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache" });
  res.flushHeaders();
  backlog.forEach(write);
  const onChange = (ev: StoreEvent) => {
    const out = translate(ev);
    if (out) write(out);
  };
  store.on("change", onChange);
  const timer = w.timeoutSeconds ? setTimeout(() => res.end(), w.timeoutSeconds * 1000) : undefined;
  res.on("close", () => {
    store.off("change", onChange);
    clearTimeout(timer);
  });
}

// The emulated Kubernetes API server: HTTPS on 127.0.0.1, bearer-token
// authentication, discovery, REST on the lab's kinds, exec over WebSocket and
// the /_lab admin endpoints. Everything a request goes through (authn, authz,
// routing, request log) happens here; the verbs live in rest.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { LabControl, type RequestRecord } from "./admin.js";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, openApiV3GroupVersion, openApiV3Root, SERVER_VERSION } from "./discovery.js";
import { ApiError, badRequest, notFound } from "./errors.js";
import { ExecSessions, pickProtocol, EXEC_PROTOCOLS, type ExecRequest, type ExecTarget } from "./exec-ws.js";
import { servedKinds, type KindInfo, type KindName } from "./kinds.js";
import { handleRest } from "./rest.js";
import { parseRequestInfo, type RequestInfo } from "./request-info.js";
import type { ObjectStore } from "./store.js";

export type { RequestRecord } from "./admin.js";

export interface ApiServerOptions {
  store: ObjectStore;
  /** Bearer token of the API user. */
  token: string;
  /** Bearer token for the /_lab endpoints. */
  adminToken: string;
  /** Where exec into a pod runs (a namespace or a simulator); undefined = the pod has no running container. */
  resolveExec: (namespace: string, pod: string, container?: string) => ExecTarget | undefined;
  tls: { cert: string; key: string };
  /** User name the token authenticates as (request log, 403 messages). Default "xnode". */
  user?: string;
  log?: (msg: string, fields?: object) => void;
  /** Directories searched first for exec'd commands (the lab's build of xnode-agent). */
  execPathDirs?: readonly string[];
  /** Custom resources the cluster has CRDs for (RKE2: HelmChart, HelmChartConfig); default none. */
  customResources?: readonly KindName[];
}

export interface ApiServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;
const SPDY_UNSUPPORTED = "exec over SPDY is not supported by the lab API server; use a WebSocket client (kubectl >= 1.30, @kubernetes/client-node Exec)";
const NOT_FOUND = () => new ApiError(404, "NotFound", "the server could not find the requested resource");

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  return query;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new ApiError(413, "BadRequest", "request entity too large"));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** Answers on a raw socket before the WebSocket handshake (upgrade requests have no ServerResponse). */
function rejectUpgrade(socket: Duplex, err: ApiError): void {
  const text = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, "InternalError", `Internal error occurred: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err });
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store } = opts;
  const user = opts.user ?? "xnode";
  const log = opts.log ?? (() => undefined);
  const lab = new LabControl();
  const exec = new ExecSessions(log, opts.execPathDirs);
  const kinds = servedKinds(opts.customResources);
  let port = 0;

  /** Authenticates, logs and authorizes; returns the request's attributes and its log record. */
  const admit = (req: IncomingMessage, url: URL): { info: RequestInfo; record: RequestRecord } => {
    const info = parseRequestInfo(req.method ?? "GET", url);
    const record: RequestRecord = {
      time: new Date().toISOString(),
      method: req.method ?? "GET",
      path: url.pathname,
      query: queryOf(url),
      verb: info.verb,
      ...(info.resource ? { resource: info.resource } : {}),
      ...(info.subresource ? { subresource: info.subresource } : {}),
      ...(info.namespace ? { namespace: info.namespace } : {}),
      ...(info.name ? { name: info.name } : {}),
      status: 0,
      ...(req.headers["user-agent"] ? { userAgent: req.headers["user-agent"] } : {}),
    };
    lab.requests.push(record);
    // a refusal is logged with its status: the caller never gets the record back to set it
    try {
      if (req.headers.authorization !== `Bearer ${opts.token}`) {
        throw new ApiError(401, "Unauthorized", "Unauthorized");
      }
      record.user = user;
      lab.authorizer.check(info, user);
    } catch (err) {
      record.status = toApiError(err).code;
      throw err;
    }
    return { info, record };
  };

  const kindOf = (info: RequestInfo): KindInfo => {
    const kind = kinds.find((k) => k.group === info.apiGroup && k.resource === info.resource);
    if (!kind || kind.version !== info.apiVersion) throw NOT_FOUND();
    return kind;
  };

  const nonResource = (path: string): unknown => {
    switch (path) {
      case "/version":
        return SERVER_VERSION;
      case "/api":
        return apiVersions(`127.0.0.1:${port}`);
      case "/apis":
        return apiGroupList(kinds);
      case "/openapi/v3":
        return openApiV3Root(kinds);
    }
    // /openapi/v2 stays 404: kubectl only falls back to it when v3 is missing.
    const match = (re: RegExp) => re.exec(path)?.[1];
    const openApi = match(/^\/openapi\/v3\/(.+)$/);
    const core = match(/^\/api\/([^/]+)$/);
    const group = match(/^\/apis\/([^/]+)$/);
    const groupVersion = match(/^\/apis\/([^/]+\/[^/]+)$/);
    const doc = openApi
      ? openApiV3GroupVersion(kinds, openApi)
      : core
        ? apiResourceList(kinds, core)
        : group
          ? apiGroup(kinds, group)
          : groupVersion
            ? apiResourceList(kinds, groupVersion)
            : undefined;
    if (!doc) throw NOT_FOUND();
    return doc;
  };

  const execRequest = (info: RequestInfo, url: URL): ExecRequest => {
    const namespace = info.namespace!;
    const podName = info.name!;
    const pod = store.peek("Pod", namespace, podName);
    if (!pod) throw notFound("", "pods", podName);
    const command = url.searchParams.getAll("command");
    if (command.length === 0) throw badRequest("you must specify at least one command for the container");
    const flag = (name: string) => url.searchParams.get(name) === "true" || url.searchParams.get(name) === "1";
    if (!flag("stdin") && !flag("stdout") && !flag("stderr")) throw badRequest("you must specify at least 1 of stdin, stdout, stderr");
    const container = url.searchParams.get("container") ?? undefined;
    const containers = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    if (container && !containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
    const target = opts.resolveExec(namespace, podName, container);
    if (!target) throw new ApiError(404, "NotFound", `container not found ("${container ?? containers[0] ?? podName}")`);
    return {
      ...target,
      command,
      stdin: flag("stdin"),
      stdout: flag("stdout"),
      stderr: flag("stderr"),
      hang: lab.execHangs(namespace, podName),
    };
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    if (url.pathname.startsWith("/_lab/")) {
      try {
        if (req.headers.authorization !== `Bearer ${opts.adminToken}`) throw new ApiError(401, "Unauthorized", "Unauthorized");
        const body = lab.handle(req.method ?? "GET", url.pathname, await readBody(req));
        if (body === null) res.writeHead(204).end();
        else sendJson(res, 200, body);
      } catch (err) {
        const apiErr = toApiError(err);
        sendJson(res, apiErr.code, apiErr.toStatus());
      }
      return;
    }
    let record: RequestRecord | undefined;
    try {
      const admitted = admit(req, url);
      record = admitted.record;
      const { info } = admitted;
      if (!info.isResourceRequest) {
        if (["/healthz", "/livez", "/readyz"].includes(url.pathname)) {
          res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
        } else sendJson(res, 200, nonResource(url.pathname));
      } else if (info.subresource === "exec" && kindOf(info).kind === "Pod") {
        execRequest(info, url); // same 404/400 answers as the WebSocket path gives
        throw badRequest(req.method === "POST" ? SPDY_UNSUPPORTED : "Upgrade request required");
      } else if (info.subresource) {
        throw NOT_FOUND();
      } else {
        const body = ["POST", "PUT", "PATCH"].includes(req.method ?? "") ? await readBody(req) : "";
        const result = handleRest({ store, info, kind: kindOf(info), url, headers: req.headers, body }, res);
        if (result) sendJson(res, result.status, result.body);
      }
      record.status = res.statusCode;
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.code >= 500) log("apiserver internal error", { path: url.pathname, error: String(err) });
      if (record) record.status = apiErr.code;
      if (!res.headersSent) sendJson(res, apiErr.code, apiErr.toStatus());
      else res.destroy();
    }
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node leaves upgrade sockets without an error listener; a client reset must not crash the lab.
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    let record: RequestRecord | undefined;
    try {
      const admitted = admit(req, url);
      record = admitted.record;
      const { info } = admitted;
      if (!info.isResourceRequest || info.subresource !== "exec" || kindOf(info).kind !== "Pod") throw NOT_FOUND();
      const execReq = execRequest(info, url);
      if (req.headers.upgrade?.toLowerCase() !== "websocket") throw badRequest(SPDY_UNSUPPORTED);
      if (!pickProtocol(req.headers["sec-websocket-protocol"])) {
        throw badRequest(`unsupported exec subprotocol; the lab API server speaks ${EXEC_PROTOCOLS.join(", ")}`);
      }
      record.status = 101;
      const upgraded = Date.now();
      const execRecord = record;
      socket.once("close", () => (execRecord.durationMs = Date.now() - upgraded));
      exec.accept(req, socket, head, execReq);
    } catch (err) {
      const apiErr = toApiError(err);
      if (record) record.status = apiErr.code;
      rejectUpgrade(socket, apiErr);
    }
  };

  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key });
  server.on("request", (req, res) => void onRequest(req, res));
  server.on("upgrade", onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  log("apiserver listening", { port });

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        exec.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

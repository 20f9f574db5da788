// The emulator's HTTP surface: POST /api/<method> (Web API calls, Bearer token
// required) and POST /upload/<file id> (file bytes from files.uploadV2). Every
// request is recorded with its outcome; queued faults are served first, then
// rate limits (HTTP 429 with Retry-After), then the method.
import type { IncomingMessage, ServerResponse } from "node:http";
import { SlackApiError, fail, type ApiContext, type Args, type MethodHandler } from "./api-call.js";
import { writeFault, writeJson, type FaultPlan } from "./faults.js";
import { receiveUpload } from "./file-methods.js";
import { tokenRefusal } from "./socket-mode.js";
import type { RateLimiter } from "./rate-limits.js";
import { decodeApiArgs, readBody, uploadedBytes } from "./request-body.js";

/** The name upload POSTs are recorded (and can be failed) under; not a real Web API method. */
export const UPLOAD_STEP = "upload";

export interface RecordedCall {
  method: string;
  args: Args;
  /** Date.now() when the request arrived. */
  time: number;
  token?: string;
  status: number;
  /** Slack's error code for refused calls; `http_<status>` for injected 5xx. */
  error?: string;
}

export interface HandlerDeps {
  methods: Record<string, MethodHandler>;
  context: ApiContext;
  faults: FaultPlan;
  /** absent: no rate limits */
  limiter?: RateLimiter;
  record(call: RecordedCall): void;
}

export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(deps, req, res).catch((error: unknown) => {
      // Not a Slack refusal but a failure of the emulator: loud, never a hanging client.
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`emulator error: ${String(error)}`);
    });
  };
}

async function route(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const arrived = { time: Date.now(), ...tokenOf(req.headers.authorization) };
  const raw = await readBody(req);
  const path = new URL(req.url ?? "/", "http://emulator").pathname;
  const api = /^\/api\/([\w.]+)$/.exec(path);
  const upload = /^\/upload\/(\w+)$/.exec(path);
  if (req.method === "POST" && api?.[1]) return apiCall(deps, api[1], arrived, req, raw, res);
  if (req.method === "POST" && upload?.[1]) return uploadBytes(deps, upload[1], arrived, req, raw, res);
  res.writeHead(404, { "content-type": "text/plain" }).end("not an emulated endpoint");
}

type Arrival = { time: number; token?: string };

function apiCall(deps: HandlerDeps, method: string, arrived: Arrival, req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
  let args: Args = {};
  try {
    args = decodeApiArgs(req.headers["content-type"], raw);
    if (arrived.token === undefined) fail("not_authed");
    const refused = tokenRefusal(method, arrived.token);
    if (refused) fail(refused);
    const fault = deps.faults.take(method);
    if (fault) return deps.record({ method, args, ...arrived, ...writeFault(res, fault) });
    const retryAfter = deps.limiter?.admit(method, args, arrived.time);
    if (retryAfter !== undefined) return deps.record({ method, args, ...arrived, ...writeFault(res, { status: 429, retryAfter }) });
    const handler = deps.methods[method] ?? fail("unknown_method");
    writeJson(res, 200, { ok: true, ...handler(args, deps.context) });
    deps.record({ method, args, ...arrived, status: 200 });
  } catch (error) {
    const refusal = error instanceof SlackApiError;
    // A bug in a handler is recorded too, so waitFor's listing shows it.
    const code = refusal ? error.code : `emulator_bug: ${String(error)}`;
    if (refusal) writeJson(res, 200, { ok: false, error: error.code, ...error.extra });
    else res.writeHead(500, { "content-type": "text/plain" }).end(code);
    deps.record({ method, args, ...arrived, status: refusal ? 200 : 500, error: code });
  }
}

function uploadBytes(deps: HandlerDeps, fileId: string, arrived: Arrival, req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
  const bytes = uploadedBytes(req.headers["content-type"], raw);
  const call = { method: UPLOAD_STEP, args: { file_id: fileId, length: bytes.length }, ...arrived };
  const fault = deps.faults.take(UPLOAD_STEP);
  if (fault) return deps.record({ ...call, ...writeFault(res, fault) });
  if (!receiveUpload(deps.context, fileId, bytes)) {
    res.writeHead(404, { "content-type": "text/plain" }).end("no such upload");
    return deps.record({ ...call, status: 404, error: "file_not_found" });
  }
  res.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${bytes.length}`);
  deps.record({ ...call, status: 200 });
}

// Upload POSTs need no token (Slack's upload URLs are pre-signed), but WebClient sends one anyway.
function tokenOf(header: string | undefined): { token?: string } {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1] ? { token: match[1] } : {};
}

// /healthz, /readyz and /metrics for Kubernetes probes and Prometheus.
// /healthz: the process works (liveness: failing it means a restart would
// help). /readyz: every dependency the process needs to do its job answers
// now (readiness). Each check is bounded, so a hanging dependency reads as
// "not ready" instead of a hanging probe.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { XnodeMetrics } from "./metrics.js";
import { withTimeout } from "./with-timeout.js";

export const OPS_PATHS = { live: "/healthz", ready: "/readyz", metrics: "/metrics" } as const;

export interface HealthCheck {
  name: string;
  ok(): boolean | Promise<boolean>;
}

const CHECK_TIMEOUT_MS = 1000;

async function bounded(check: HealthCheck): Promise<boolean> {
  return (
    (await withTimeout(
      Promise.resolve().then(() => check.ok()),
      CHECK_TIMEOUT_MS,
    )) ?? false
  );
}

/** Redis answers a PING now; a connection that is reconnecting is not asked (its commands would queue). */
export function redisReadiness(redis: Redis): HealthCheck {
  return { name: "redis", ok: async () => redis.status === "ready" && (await redis.ping()) === "PONG" };
}

export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** 200 when every check passes (with `passed` as the body when given), else 503 naming each check's result. */
function answer(res: ServerResponse, key: "live" | "ready", checks: HealthCheck[], passed?: string): void {
  void Promise.all(checks.map(async (c) => [c.name, await bounded(c)] as const)).then((results) => {
    const ok = results.every(([, r]) => r);
    const body = ok && passed !== undefined ? passed : `${JSON.stringify({ [key]: ok, checks: Object.fromEntries(results) })}\n`;
    res.writeHead(ok ? 200 : 503, { "content-type": ok && passed !== undefined ? "text/plain" : "application/json" }).end(body);
  });
}

export function opsHandler(metrics: XnodeMetrics, checks: { live?: HealthCheck[]; ready: HealthCheck[] }, logger: Logger): OpsHandler {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://ops").pathname;
    if (req.method !== "GET") return void res.writeHead(405, { allow: "GET" }).end();
    if (path === OPS_PATHS.live) return answer(res, "live", checks.live ?? [], "ok\n");
    if (path === OPS_PATHS.ready) return answer(res, "ready", checks.ready);
    if (path === OPS_PATHS.metrics) {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (err: unknown) => {
          logger.warn({ err }, "collecting metrics failed");
          res.writeHead(500, { "content-type": "text/plain" }).end(`collecting metrics failed: ${errorMessage(err)}\n`);
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };
}

export interface OpsServer {
  /** the bound port; undefined when the port was taken */
  port?: number;
  close(): Promise<void>;
}

/**
 * Serves the probes on `port` (0: any free port). A port already taken is
 * logged, not fatal: checks and fixes still run, and the failing liveness
 * probe tells Kubernetes (and the operator) what is wrong.
 */
export async function startOpsServer(handler: OpsHandler, port: number, logger: Logger, host?: string): Promise<OpsServer> {
  const server = createServer(handler);
  const bound = await new Promise<number | undefined>((resolve) => {
    server.once("error", (err) => {
      logger.error({ err, port }, "cannot serve /healthz, /readyz and /metrics: the port is taken");
      resolve(undefined);
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(address && typeof address === "object" ? address.port : undefined);
    });
  });
  if (bound !== undefined) logger.info({ port: bound, paths: Object.values(OPS_PATHS) }, "serving health and metrics");
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        if (bound === undefined) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

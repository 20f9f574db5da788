// The only place that reads the environment and the XNODE_CONFIG file.
// One zod schema each; every problem is listed at once so an operator fixes
// a bad deployment in one round instead of one error per restart.
import { readFileSync } from "node:fs";
import { CronExpressionParser } from "cron-parser";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { errorMessage, XnodeError } from "./errors.js";
import { flannelLocationSchema, remediationKindSchema } from "./model/index.js";

// Empty strings count as unset: `FOO=` in a .env file means "not given".
const optionalString = z.preprocess((v) => (v === "" ? undefined : v), z.string().optional());

export const envSchema = z.object({
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  // A bot token here would make Socket Mode retry apps.connections.open forever (Slack answers not_allowed_token_type).
  SLACK_APP_TOKEN: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z
      .string()
      .startsWith(
        "xapp-",
        "must be an app-level token (xapp-…) with the connections:write scope (the app's Basic Information → App-Level Tokens); the bot token (xoxb-…) goes in SLACK_BOT_TOKEN",
      )
      .optional(),
  ),
  SLACK_API_URL: z.preprocess((v) => (v === "" ? undefined : v), z.string().url().optional()),
  // 0 lets the OS pick a free port (tests); the bot logs the one it got.
  // The bot's port: Slack's requests (HTTP mode) and /healthz, /readyz, /metrics (both modes).
  PORT: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().min(0).max(65535).default(3000)),
  // The worker's /healthz, /readyz and /metrics (9464: the usual port of a Prometheus exporter).
  METRICS_PORT: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().min(0).max(65535).default(9464)),
  REDIS_URL: z.preprocess((v) => (v === "" ? undefined : v), z.string().url().default("redis://127.0.0.1:6379")),
  XNODE_CONFIG: optionalString,
  // Namespaces xnode's keys and queues in a shared Redis (tests use one per run).
  XNODE_REDIS_PREFIX: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default("xnode"),
  ),
  LOG_LEVEL: z.preprocess((v) => (v === "" ? undefined : v), z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),
});
export type Env = z.infer<typeof envSchema>;

const slackUserId = z.string().regex(/^[UW][A-Z0-9]+$/, "must be a Slack user id like U0123ABCD");
const slackGroupId = z.string().regex(/^S[A-Z0-9]+$/, "must be a Slack user group id like S0456EFGH");

export const clusterSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and dashes"),
    kubeconfig: z.string().min(1).optional(),
    // The worker's own cluster through its ServiceAccount and the API Service's
    // IP (no cluster DNS needed, which matters when pod networking is broken).
    inCluster: z.boolean().optional(),
    context: z.string().min(1).optional(),
    allowedRemediations: z.array(remediationKindSchema).optional(),
    // where flannel lives when neither its names nor its labels find it
    flannel: flannelLocationSchema.optional(),
  })
  .strict()
  .refine((c) => !!c.kubeconfig !== !!c.inCluster, { message: "give exactly one of kubeconfig or inCluster: true" });
export type ClusterConfig = z.infer<typeof clusterSchema>;

export const fileConfigSchema = z
  .object({
    clusters: z.array(clusterSchema).default([]),
    approvals: z
      .object({
        approvers: z
          .object({ users: z.array(slackUserId).default([]), usergroups: z.array(slackGroupId).default([]) })
          .strict()
          .prefault({}),
        twoPersonRule: z.boolean().default(false),
        expiryMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(15),
      })
      .strict()
      .prefault({}),
    digests: z
      .array(
        z
          .object({
            channel: z.string().min(1),
            cron: z.string().min(1),
            timezone: z.string().default("UTC"),
            // Every N seconds instead of the cron (tests and demos); replaces cron when set.
            everySeconds: z.number().int().min(1).max(86_400).optional(),
            clusters: z.array(z.string()).min(1),
          })
          .strict(),
      )
      .default([]),
    // Redis behind Sentinel: xnode asks these sentinels for the primary of `name` and follows failovers.
    // REDIS_URL's password and database number (if any) still apply to the primary; its host is not used.
    redis: z
      .object({
        sentinels: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).min(1),
        name: z.string().min(1),
        sentinelPassword: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    checks: z
      .object({
        execTimeoutSeconds: z.number().min(1).max(300).default(20),
        pingTimeoutSeconds: z.number().min(1).max(10).default(1),
        concurrency: z.number().int().min(1).max(64).default(16),
        // execs one process keeps open at once against a cluster's API server (each node's probes are one exec)
        maxConcurrentExecs: z.number().int().min(1).max(1024).default(128),
        rolloutTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = cfg.clusters.map((c) => c.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["clusters", i, "name"], message: `cluster "${n}" is defined twice` });
    });
    cfg.digests.forEach((d, i) => {
      const schedule = digestScheduleProblem(d);
      if (schedule) ctx.addIssue({ code: "custom", path: ["digests", i, schedule.field], message: schedule.message });
    });
    cfg.digests.forEach((d, i) =>
      d.clusters.forEach((c, j) => {
        if (!names.includes(c)) ctx.addIssue({ code: "custom", path: ["digests", i, "clusters", j], message: `unknown cluster "${c}"` });
      }),
    );
  });
export type FileConfig = z.infer<typeof fileConfigSchema>;

/**
 * A digest's time zone (IANA, as Intl knows them) and cron pattern (read by
 * cron-parser, the parser BullMQ's job schedulers use), checked here so a bad
 * one stops the start instead of surfacing once workers already consume jobs.
 */
function digestScheduleProblem(d: { cron: string; timezone: string; everySeconds?: number | undefined }): { field: string; message: string } | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: d.timezone });
  } catch {
    return { field: "timezone", message: `unknown time zone "${d.timezone}" (use an IANA name such as Europe/Berlin or UTC)` };
  }
  if (d.everySeconds !== undefined) return undefined;
  try {
    CronExpressionParser.parse(d.cron, { tz: d.timezone });
    return undefined;
  } catch (err) {
    return { field: "cron", message: `not a cron pattern: "${d.cron}" (${errorMessage(err)}); e.g. "0 9 * * 1-5" for 09:00 on weekdays` };
  }
}

export interface Config {
  env: Env;
  file: FileConfig;
}

function problems(source: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join(".") : "(top level)";
    const detail = issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message;
    return `${source} ${where}: ${detail}`;
  });
}

export function parseFileConfig(data: unknown, source = "config"): { config?: FileConfig; problems: string[] } {
  const result = fileConfigSchema.safeParse(data ?? {});
  return result.success ? { config: result.data, problems: [] } : { problems: problems(source, result.error) };
}

/**
 * Reads env + the config file. `readFile` is a parameter so tests can hand in
 * text without touching disk.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): Config {
  const found: string[] = [];
  const envResult = envSchema.safeParse(env);
  if (!envResult.success) found.push(...problems("env", envResult.error));

  let file: FileConfig | undefined = fileConfigSchema.parse({});
  // Read the file even when other variables are wrong, so every problem is listed in one go.
  const path = env.XNODE_CONFIG || undefined;
  if (path) {
    let data: unknown;
    try {
      data = parseYaml(readFile(path));
    } catch (err) {
      found.push(`XNODE_CONFIG ${path}: cannot read YAML: ${errorMessage(err)}`);
    }
    if (data !== undefined || found.length === 0) {
      const parsed = parseFileConfig(data, `XNODE_CONFIG ${path}`);
      file = parsed.config;
      found.push(...parsed.problems);
    }
  }
  if (found.length > 0 || !envResult.success || !file) {
    throw new XnodeError("CONFIG_INVALID", `configuration is invalid:\n${found.map((p) => `  - ${p}`).join("\n")}`, "Fix the listed settings and start again.");
  }
  return { env: envResult.data, file };
}

export type SlackMode = { mode: "socket"; botToken: string; appToken: string } | { mode: "http"; botToken: string; signingSecret: string; port: number };

/** The bot needs a token and one transport; say exactly what is missing. */
export function slackMode(env: Env): SlackMode {
  const missing: string[] = [];
  if (!env.SLACK_BOT_TOKEN) missing.push("SLACK_BOT_TOKEN");
  if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) missing.push("SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)");
  if (missing.length > 0 || !env.SLACK_BOT_TOKEN) {
    throw new XnodeError("CONFIG_INVALID", `missing ${missing.join(" and ")}`, "Set them in the environment of `xnode bot`.");
  }
  if (env.SLACK_APP_TOKEN) return { mode: "socket", botToken: env.SLACK_BOT_TOKEN, appToken: env.SLACK_APP_TOKEN };
  return { mode: "http", botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET!, port: env.PORT };
}

/** Where xnode's Redis is: REDIS_URL, or the Sentinel setup of the config file's `redis`. */
export function redisTarget(config: Config): { url: string; sentinel?: NonNullable<FileConfig["redis"]> } {
  return config.file.redis ? { url: config.env.REDIS_URL, sentinel: config.file.redis } : { url: config.env.REDIS_URL };
}

export function findCluster(file: FileConfig, name: string): ClusterConfig {
  const cluster = file.clusters.find((c) => c.name === name);
  if (!cluster) {
    const known = file.clusters.map((c) => c.name).join(", ") || "none configured";
    throw new XnodeError("CLUSTER_UNKNOWN", `unknown cluster "${name}"`, `Known clusters: ${known}.`);
  }
  return cluster;
}

// One pino root logger; callers bind a request/job id with `.child()`.
// Tokens and secrets are redacted wherever they appear in logged objects.
import pino from "pino";

export type Logger = pino.Logger;

export const redactPaths = [
  "token",
  "*.token",
  "botToken",
  "appToken",
  "signingSecret",
  "*.botToken",
  "*.appToken",
  "*.signingSecret",
  "headers.authorization",
  "*.headers.authorization",
  "env.SLACK_BOT_TOKEN",
  "env.SLACK_APP_TOKEN",
  "env.SLACK_SIGNING_SECRET",
];

/** Logs go to stderr by default so `xnode check --json` keeps stdout clean. */
export function createLogger(level = "info", destination: pino.DestinationStream = pino.destination(2)): Logger {
  return pino({ level, base: { app: "xnode" }, redact: { paths: redactPaths, censor: "[redacted]" } }, destination);
}

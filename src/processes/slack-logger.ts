// Bolt and the Web API client log through our pino logger, so their lines
// carry the same fields and redaction.
import bolt from "@slack/bolt";
import type { Logger } from "../logger.js";

/** `logger` should already carry a `component` binding naming the library. */
export function slackLogger(logger: Logger): bolt.Logger {
  const log = logger;
  let level = bolt.LogLevel.INFO;
  const text = (msgs: unknown[]) => msgs.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ");
  return {
    debug: (...m: unknown[]) => log.debug(text(m)),
    info: (...m: unknown[]) => log.info(text(m)),
    warn: (...m: unknown[]) => log.warn(text(m)),
    error: (...m: unknown[]) => log.error(text(m)),
    setLevel: (l) => (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

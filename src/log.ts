/**
 * One JSON object per line, with a `level`. console.log reaches `wrangler tail` and Workers Logs,
 * which index the JSON fields. Callers pass only fields that are safe to keep: never keys,
 * signatures, caller keys or bodies.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

export type LogFields = Record<string, unknown>;

/** Writes the lines at or above its threshold (LOG_LEVEL); the app and the Workflow share one per settings. */
export class Logger {
  constructor(readonly threshold: LogLevel = DEFAULT_LOG_LEVEL) {}

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(this.threshold);
  }

  write(level: LogLevel, fields: LogFields): void {
    if (!this.enabled(level)) return;
    const line = JSON.stringify({ level, ...fields });
    if (level === "error") console.error(line);
    else console.log(line);
  }

  debug(fields: LogFields): void {
    this.write("debug", fields);
  }
  info(fields: LogFields): void {
    this.write("info", fields);
  }
  warn(fields: LogFields): void {
    this.write("warn", fields);
  }
  error(fields: LogFields): void {
    this.write("error", fields);
  }
}

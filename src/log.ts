/**
 * One JSON object per line, with a `level`. console.log reaches `wrangler tail` and Workers Logs,
 * which index the JSON fields. Callers pass only fields that are safe to keep: never keys,
 * signatures, caller keys or bodies.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

/** LOG_LEVEL as set, or the default when unset or unknown (the health check reports unknown values). */
export function logLevelFrom(value: string | undefined): LogLevel {
  const level = value?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(level ?? "") ? (level as LogLevel) : DEFAULT_LOG_LEVEL;
}

export function writeLog(threshold: LogLevel, level: LogLevel, fields: Record<string, unknown>): void {
  if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(threshold)) return;
  const line = JSON.stringify({ level, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

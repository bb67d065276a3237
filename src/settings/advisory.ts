import { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevel } from "../log";
import { type Check, OK, warning } from "./check";
import { present } from "./values";

/**
 * Settings that are reported but never a reason to stop: an unknown log level falls back to the default, an
 * unknown API_DOCS value to "off" (never publishing what an operator may have meant to turn off).
 */

export function logLevelSetting(value: unknown): { level: LogLevel; check: Check } {
  const text = present(value)?.toLowerCase();
  if (text === undefined) return { level: DEFAULT_LOG_LEVEL, check: OK };
  if ((LOG_LEVELS as readonly string[]).includes(text)) return { level: text as LogLevel, check: OK };
  return {
    level: DEFAULT_LOG_LEVEL,
    check: warning(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; until fixed, ${DEFAULT_LOG_LEVEL} is used.`),
  };
}

/** Whether GET /docs and /docs/errors are served (and error answers carry a doc_url): on (also when unset) or off. */
export function apiDocsSetting(value: unknown): { enabled: boolean; check: Check } {
  const text = present(value)?.toLowerCase() ?? "on";
  if (text === "on" || text === "off") return { enabled: text === "on", check: OK };
  return { enabled: false, check: warning("API_DOCS must be on or off; until fixed, /docs is off.") };
}

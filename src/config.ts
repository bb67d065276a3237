import * as v from "valibot";
import { type CallerKey, parseCallerKeys } from "./caller-keys";
import type { GatewayEnv } from "./env";
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevel, writeLog } from "./log";
import {
  DEFAULT_BASE_URL,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  MAX_MAX_RESPONSE_BYTES,
  MAX_MAX_RETRIES,
  MAX_TIMEOUT_MS,
  MIN_MAX_RESPONSE_BYTES,
  MIN_TIMEOUT_MS,
} from "./sparkpay/constants";
import { ConfigError } from "./sparkpay/errors";
import { pairsWithPrivateKey } from "./sparkpay/key-pairs";
import { importPrivateKeys, importPublicKeys } from "./sparkpay/keys";

/**
 * Settings: parsed and checked once per isolate, and reported. Every check runs, so the health
 * check can list every problem at once; every message names the setting and what is wrong, never
 * the value, because several settings are secrets.
 */

/** How long a close job keeps retrying after its close_at before it fails: default 72 h, 1 min to 30 days. */
export const DEFAULT_GIVE_UP_AFTER_S = 259_200;
const MIN_GIVE_UP_AFTER_S = 60;
const MAX_GIVE_UP_AFTER_S = 2_592_000;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Scheme, host and optional port, nothing else: a path, `?` or `#` would change where requests go. */
const ORIGIN_ONLY = /^https?:\/\/[^/?#@\s]+\/?$/i;

function isAllowedBaseUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return true; // v.url has already reported it
  }
  if (!ORIGIN_ONLY.test(text)) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

function wholeNumber(setting: string, min: number, max: number, fallback: number) {
  return v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,7}$/, `${setting} must be a whole number.`),
      v.transform(Number),
      v.minValue(min, `${setting} must be at least ${min}.`),
      v.maxValue(max, `${setting} must be at most ${max}.`),
    ),
    String(fallback),
  );
}

const SettingsSchema = v.object({
  SPARKPAY_APP_ID: v.pipe(
    v.string("SPARKPAY_APP_ID is not set; it is the AppID of your SparkPay application."),
    v.regex(/^[\x21-\x7e]{1,128}$/, "SPARKPAY_APP_ID must be 1-128 visible ASCII characters, as SparkPay shows it."),
  ),
  SPARKPAY_BASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.url("SPARKPAY_BASE_URL is not a URL."),
      // valibot runs every step of a pipe, so this check copes with text that is not a URL.
      v.check(
        isAllowedBaseUrl,
        "SPARKPAY_BASE_URL must be an https:// URL without credentials, query or fragment, and without a path: " +
          "https://host[:port] (http:// only for a local sandbox on 127.0.0.1).",
      ),
    ),
    DEFAULT_BASE_URL,
  ),
  SPARKPAY_TIMEOUT_MS: wholeNumber("SPARKPAY_TIMEOUT_MS", MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
  SPARKPAY_MAX_RETRIES: wholeNumber("SPARKPAY_MAX_RETRIES", 0, MAX_MAX_RETRIES, DEFAULT_MAX_RETRIES),
  SPARKPAY_DEADLINE_MS: wholeNumber("SPARKPAY_DEADLINE_MS", MIN_TIMEOUT_MS, 5 * MAX_TIMEOUT_MS, DEFAULT_DEADLINE_MS),
  SPARKPAY_MAX_RESPONSE_BYTES: wholeNumber(
    "SPARKPAY_MAX_RESPONSE_BYTES",
    MIN_MAX_RESPONSE_BYTES,
    MAX_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
  ),
  SPARKPAY_VERIFY_RESPONSES: v.optional(
    v.picklist(["required", "off"], "SPARKPAY_VERIFY_RESPONSES must be `required` or `off`."),
    "required",
  ),
  CLOSE_GIVE_UP_AFTER_S: wholeNumber(
    "CLOSE_GIVE_UP_AFTER_S",
    MIN_GIVE_UP_AFTER_S,
    MAX_GIVE_UP_AFTER_S,
    DEFAULT_GIVE_UP_AFTER_S,
  ),
});
type SettingName = keyof typeof SettingsSchema.entries;
type PlainSettings = v.InferOutput<typeof SettingsSchema>;

/**
 * The secrets: set with `wrangler secret put` (locally, .dev.vars), never in wrangler.toml, never
 * by CI. Each deploy checks they exist on the target Worker first.
 */
export const SECRET_NAMES = ["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY", "GATEWAY_API_KEYS"] as const;

/** Every setting the health check and `npm run doctor` report on, in order. */
export const SETTING_NAMES = [
  ...(Object.keys(SettingsSchema.entries) as SettingName[]),
  "LOG_LEVEL",
  "API_DOCS",
  ...SECRET_NAMES,
] as const;
export const RATE_LIMITER_BINDINGS = ["CALLER_RATE_LIMITER", "MERCHANT_RATE_LIMITER"] as const;
export type RateLimiterBinding = (typeof RATE_LIMITER_BINDINGS)[number];
/** The durable closes' bindings: without them the /v1/closes routes answer 503 naming them. */
export const CLOSE_BINDINGS = ["CLOSE_JOBS_DB", "CLOSE_WORKFLOW"] as const;
export type CloseBinding = (typeof CLOSE_BINDINGS)[number];
/** Optional: the durable closes' webhooks (a var and a secret). While they are wrong, no webhook is delivered. */
export const WEBHOOK_SETTINGS = ["CLOSE_WEBHOOK_URL", "CLOSE_WEBHOOK_SECRET"] as const;
export const MIN_WEBHOOK_SECRET_LENGTH = 32;
/**
 * Reported, never a reason for "not ready": an unknown log level falls back to the default, an unknown API_DOCS
 * value to "off" (never publishing what an operator may have meant to turn off).
 */
export const ADVISORY_SETTINGS: ReadonlySet<string> = new Set(["LOG_LEVEL", "API_DOCS"]);

/** API_DOCS as set: "on" (also when unset), "off", or undefined for anything else (which means off). */
function apiDocsSetting(env: GatewayEnv): "on" | "off" | undefined {
  const value = present(env.API_DOCS)?.toLowerCase() ?? "on";
  return value === "on" || value === "off" ? value : undefined;
}
/** Whether GET /docs and /docs/errors are served (and error answers carry a doc_url). */
export function apiDocsEnabled(env: GatewayEnv): boolean {
  return apiDocsSetting(env) === "on";
}
/**
 * What only the durable closes need. A problem here makes /healthz not ready (a deploy stops on it: a job that
 * cannot run or a webhook that cannot be sent must not go unnoticed), but POST /v4/pay/orders/close, which
 * needs none of it, keeps closing orders.
 */
export const DURABLE_CLOSE_SETTINGS: ReadonlySet<string> = new Set([...CLOSE_BINDINGS, ...WEBHOOK_SETTINGS]);

/** Whether a failed check stops POST /v4/pay/orders/close (advisory and durable-close settings never do). */
const stopsCloses = ([name, result]: [string, string]) =>
  !ADVISORY_SETTINGS.has(name) && !DURABLE_CLOSE_SETTINGS.has(name) && !result.startsWith("ok");

/** Every setting, parsed: what the gateway runs with once every check has passed. */
export interface Settings extends PlainSettings {
  privateKeys: CryptoKey[];
  /** Undefined when SPARKPAY_VERIFY_RESPONSES is off. */
  platformKeys: CryptoKey[] | undefined;
  callerKeys: CallerKey[];
}

export interface ConfigReport {
  ready: boolean;
  /** Each setting: "ok", or what is wrong with it (never its value). */
  checks: Record<string, string>;
}

export interface LoadedConfig {
  report: ConfigReport;
  /** Present when every check the close route depends on passed (the durable closes' may still be failing). */
  settings?: Settings;
  /** Present whenever GATEWAY_API_KEYS is usable, so callers are told 401 even if another setting is broken. */
  callerKeys?: CallerKey[];
}

/**
 * A setting's text. Empty strings count as unset, so `SPARKPAY_TIMEOUT_MS = ""` means "use the
 * default". wrangler.toml may hold a var as a TOML number or boolean (`SPARKPAY_MAX_RETRIES = 0`):
 * it is read as its text, so 0 means 0 and a value of the wrong kind is refused by name, never
 * replaced by a default.
 */
function present(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = (
    typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value)
  ).trim();
  return text ? text : undefined;
}

/** Values copied from wrangler.toml or .dev.vars.example without being filled in. */
const PLACEHOLDER = "replace-with-";

/** The limiter, or the ConfigError naming the binding to declare (a 503, never a 500). */
/**
 * The binding `name`, when it has the methods the gateway calls; else the ConfigError naming the binding and the
 * wrangler.toml table to declare it under (a 503, never a 500).
 */
function requireBinding<T>(env: GatewayEnv, name: string, table: string, methods: readonly string[]): T {
  const binding = (env as unknown as Record<string, Record<string, unknown> | undefined>)[name];
  if (!methods.every((method) => typeof binding?.[method] === "function")) {
    throw new ConfigError(`${name} is not bound; declare it under [[${table}]] in wrangler.toml for this environment.`);
  }
  return binding as T;
}

export function requireLimiter(env: GatewayEnv, name: RateLimiterBinding): RateLimit {
  return requireBinding(env, name, "ratelimits", ["limit"]);
}

/** The D1 database of close jobs. */
export function requireCloseJobsDb(env: GatewayEnv): D1Database {
  return requireBinding(env, "CLOSE_JOBS_DB", "d1_databases", ["prepare", "batch"]);
}

/** The close Workflow. */
export function requireCloseWorkflow(env: GatewayEnv): Workflow {
  return requireBinding(env, "CLOSE_WORKFLOW", "workflows", ["create", "get"]);
}

function isAllowedWebhookUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (/[?#@\s]/.test(text) || url.username || url.password) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

export interface WebhookSettings {
  url: string;
  secret: string;
}

/** Whether CLOSE_WEBHOOK_URL is set (an empty value means no webhooks): then CLOSE_WEBHOOK_SECRET is needed too. */
export function webhooksWanted(vars: { CLOSE_WEBHOOK_URL?: unknown }): boolean {
  return present(vars.CLOSE_WEBHOOK_URL) !== undefined;
}

/** Where the close webhooks go, and their signing secret; undefined when CLOSE_WEBHOOK_URL is unset (no webhooks). */
export function webhookSettings(env: GatewayEnv): WebhookSettings | undefined {
  const url = present(env.CLOSE_WEBHOOK_URL);
  if (url === undefined) return undefined;
  if (url.includes(PLACEHOLDER) || !isAllowedWebhookUrl(url)) {
    throw new ConfigError(
      "CLOSE_WEBHOOK_URL must be an https:// URL without credentials, query or fragment (a path is fine; " +
        "http:// only on 127.0.0.1/localhost), or empty for no webhooks.",
    );
  }
  const secret = present(env.CLOSE_WEBHOOK_SECRET);
  if (secret === undefined) {
    throw new ConfigError(
      "CLOSE_WEBHOOK_SECRET is not set; CLOSE_WEBHOOK_URL needs it to sign the webhooks " +
        `(at least ${MIN_WEBHOOK_SECRET_LENGTH} characters, set with \`wrangler secret put\`).`,
    );
  }
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH || secret.includes(PLACEHOLDER)) {
    throw new ConfigError(`CLOSE_WEBHOOK_SECRET must be at least ${MIN_WEBHOOK_SECRET_LENGTH} random characters.`);
  }
  return { url, secret };
}

async function check<T>(
  checks: Record<string, string>,
  setting: string,
  load: () => Promise<T> | T,
): Promise<T | undefined> {
  try {
    const value = await load();
    checks[setting] = "ok";
    return value;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error; // a bug, not a setting
    checks[setting] = error.message;
    return undefined;
  }
}

async function buildConfig(env: GatewayEnv): Promise<LoadedConfig> {
  const checks: Record<string, string> = {};
  const input = Object.fromEntries(
    Object.keys(SettingsSchema.entries).map((name) => [name, present(env[name as SettingName])]),
  );
  if (input.SPARKPAY_VERIFY_RESPONSES) input.SPARKPAY_VERIFY_RESPONSES = input.SPARKPAY_VERIFY_RESPONSES.toLowerCase();
  const parsed = v.safeParse(SettingsSchema, input, { abortPipeEarly: true });
  for (const name of Object.keys(SettingsSchema.entries)) checks[name] = "ok";
  for (const issue of parsed.issues ?? []) {
    const name = String(issue.path?.[0]?.key);
    if (checks[name] === "ok") checks[name] = issue.message;
  }
  const logLevel = present(env.LOG_LEVEL)?.toLowerCase();
  // (LOG_LEVEL stays advisory: an unknown level must never stop payments.)
  checks.LOG_LEVEL =
    logLevel === undefined || LOG_LEVELS.includes(logLevel as LogLevel)
      ? "ok"
      : `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; until fixed, ${DEFAULT_LOG_LEVEL} is used.`;
  checks.API_DOCS = apiDocsSetting(env) ? "ok" : "API_DOCS must be on or off; until fixed, /docs is off.";
  const verify = input.SPARKPAY_VERIFY_RESPONSES !== "off";
  const privateKeys = await check(checks, "SPARKPAY_PRIVATE_KEY", () => importPrivateKeys(env.SPARKPAY_PRIVATE_KEY));
  const platformKeys = verify
    ? await check(checks, "SPARKPAY_PLATFORM_PUBLIC_KEY", () => importPublicKeys(env.SPARKPAY_PLATFORM_PUBLIC_KEY))
    : undefined;
  if (!verify) checks.SPARKPAY_PLATFORM_PUBLIC_KEY = "ok (not used: SPARKPAY_VERIFY_RESPONSES is off)";
  const callerKeys = await check(checks, "GATEWAY_API_KEYS", () => parseCallerKeys(env.GATEWAY_API_KEYS));
  for (const name of RATE_LIMITER_BINDINGS) await check(checks, name, () => requireLimiter(env, name));
  await check(checks, "CLOSE_JOBS_DB", () => requireCloseJobsDb(env));
  await check(checks, "CLOSE_WORKFLOW", () => requireCloseWorkflow(env));
  // Two checks, so the report names the one to fix; the secret matters only with a URL.
  await check(checks, "CLOSE_WEBHOOK_URL", () => webhookSettings({ ...env, CLOSE_WEBHOOK_SECRET: "x".repeat(64) }));
  if (!webhooksWanted(env)) checks.CLOSE_WEBHOOK_SECRET = "ok (not used: CLOSE_WEBHOOK_URL is not set)";
  else if (checks.CLOSE_WEBHOOK_URL !== "ok")
    checks.CLOSE_WEBHOOK_SECRET = "ok (not checked until CLOSE_WEBHOOK_URL is)";
  else await check(checks, "CLOSE_WEBHOOK_SECRET", () => webhookSettings(env));
  const platformSetting = "SPARKPAY_PLATFORM_PUBLIC_KEY";
  if (
    privateKeys &&
    platformKeys &&
    pairsWithPrivateKey(env.SPARKPAY_PRIVATE_KEY, env[platformSetting], platformSetting)
  ) {
    checks.SPARKPAY_PLATFORM_PUBLIC_KEY =
      "SPARKPAY_PLATFORM_PUBLIC_KEY is the public half of your own SPARKPAY_PRIVATE_KEY (the keys are swapped " +
      "or mixed up). It must be the platform public key SparkPay gives you, from the SparkPay dashboard.";
  }
  for (const name of SETTING_NAMES) {
    if (present(env[name])?.includes(PLACEHOLDER)) {
      checks[name] =
        `${name} is still the placeholder (${PLACEHOLDER}…) from the example configuration; set the real value.`;
    }
  }
  const failing = Object.keys(checks).filter((name) => !ADVISORY_SETTINGS.has(name) && !checks[name]?.startsWith("ok"));
  const report = { ready: failing.length === 0, checks };
  const closesWork = !Object.entries(checks).some(stopsCloses);
  if (!closesWork || !parsed.success || !privateKeys || !callerKeys) return { report, callerKeys };
  return { report, settings: { ...parsed.output, privateKeys, platformKeys, callerKeys }, callerKeys };
}

// One result per env object per isolate (the resolved result, never an in-flight promise).
const loaded = new WeakMap<GatewayEnv, LoadedConfig>();

export async function loadConfig(env: GatewayEnv): Promise<LoadedConfig> {
  let result = loaded.get(env);
  if (!result) {
    result = await buildConfig(env);
    if (!loaded.has(env) && Object.values(result.report.checks).some((value) => !value.startsWith("ok"))) {
      // Once per isolate: the messages name settings and problems, never values.
      const problems = Object.fromEntries(
        Object.entries(result.report.checks).filter(([, value]) => !value.startsWith("ok")),
      );
      writeLog("error", "error", { msg: "configuration problem", problems });
    }
    loaded.set(env, result);
  }
  return result;
}

/** The first problem that stops closes, for the 503 a request gets while the configuration is not usable. */
export function firstProblem(report: ConfigReport): string {
  const blocking = Object.entries(report.checks).find(stopsCloses);
  return blocking?.[1] ?? "The configuration is not usable.";
}

/** The settings, or the ConfigError (a 503 naming the setting) that stops every close until fixed. */
export async function requireSettings(env: GatewayEnv): Promise<Settings> {
  const { settings, report } = await loadConfig(env);
  if (!settings) throw new ConfigError(firstProblem(report));
  return settings;
}

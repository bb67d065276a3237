import { type CallerKey, parseCallerKeys } from "../caller-keys";
import type { GatewayEnv } from "../env";
import type { LogLevel } from "../log";
import { ConfigError } from "../sparkpay/errors";
import { privateKeysDer } from "../sparkpay/key-formats";
import { apiDocsSetting, logLevelSetting } from "./advisory";
import { ALL_BINDINGS, bindingCheck, CLOSE_BINDINGS, NOTIFICATION_BINDINGS } from "./bindings";
import { type Check, isProblem, OK, problem, unused, warning } from "./check";
import { keysSwapped, MERCHANT_KEY_SETTING, merchantKeys, platformKeys, SWAPPED_KEYS } from "./keys";
import { PLAIN_SETTING_NAMES, type PlainSettings, parsePlainSettings } from "./schema";
import { isPlaceholder, PLACEHOLDER } from "./values";
import { readWebhookSettings, WEBHOOK_SETTINGS, type WebhookSetup } from "./webhooks";

/**
 * Every setting and binding, checked at once (so the report lists every problem, not only the first), and what the
 * gateway runs with once the checks it needs have passed. Messages name settings and problems, never values.
 */

/**
 * The secrets: set with `wrangler secret put` (locally, .dev.vars), never in wrangler.toml, never by CI. Each deploy
 * checks they exist on the target Worker first.
 */
export const SECRET_NAMES = ["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY", "GATEWAY_API_KEYS"] as const;
/** Settings that are reported but never stop anything (a fallback applies): their problems are warnings. */
const ADVISORY_SETTINGS = ["LOG_LEVEL", "API_DOCS"] as const;

/** Every setting the report (and so /healthz and `npm run doctor`) names, in order; bindings follow them. */
export const SETTING_NAMES = [...PLAIN_SETTING_NAMES, ...ADVISORY_SETTINGS, ...SECRET_NAMES] as const;

/**
 * What only the durable closes need. A problem here makes /healthz not ready (a deploy stops on it: a job that cannot
 * run or a webhook that cannot be sent must not go unnoticed), but POST /v4/pay/orders/close, which needs none of it,
 * keeps closing orders.
 */
/** What the close route does not need: the durable closes' settings, the reads' limiter, the notifications'. */
const NOT_FOR_CLOSES: ReadonlySet<string> = new Set([
  ...CLOSE_BINDINGS,
  ...NOTIFICATION_BINDINGS,
  ...WEBHOOK_SETTINGS,
  "READ_RATE_LIMITER",
  "NOTIFY_RATE_LIMITER",
]);

export interface SettingsReport {
  /** No check is a problem: every route works. */
  ready: boolean;
  checks: Record<string, Check>;
}

/** Every setting, parsed: what the close route runs with once every check it depends on has passed. */
export interface Settings extends PlainSettings {
  privateKeys: CryptoKey[];
  /** The same keys as PKCS#8 DER, for decrypting notifications (a signing CryptoKey cannot decrypt). */
  privateKeysDer: Uint8Array<ArrayBuffer>[];
  /** Undefined when SPARKPAY_VERIFY_RESPONSES is off. */
  platformKeys: CryptoKey[] | undefined;
  callerKeys: CallerKey[];
}

export interface LoadedSettings {
  report: SettingsReport;
  /** Present when every check the close route depends on passed (the durable closes' may still be failing). */
  settings: Settings | undefined;
  /** Present whenever GATEWAY_API_KEYS is usable, so callers are told 401 even if another setting is broken. */
  callerKeys: CallerKey[] | undefined;
  logLevel: LogLevel;
  docsEnabled: boolean;
  webhooks: WebhookSetup;
}

/** Whether a check stops POST /v4/pay/orders/close: a problem, unless only other routes need the setting. */
function stopsCloses([name, check]: [string, Check]): boolean {
  return isProblem(check) && !NOT_FOR_CLOSES.has(name);
}

/** The first problem that stops closes, for the 503 a request gets while the configuration is not usable. */
export function firstProblem(report: SettingsReport): string {
  const blocking = Object.entries(report.checks).find(stopsCloses)?.[1];
  return isProblem(blocking) ? blocking.message : "The configuration is not usable.";
}

/** Runs `load`, recording OK or the setting's problem; anything but a ConfigError is a bug and is thrown. */
async function checked<T>(
  checks: Record<string, Check>,
  setting: string,
  load: () => Promise<T> | T,
): Promise<T | undefined> {
  try {
    const value = await load();
    checks[setting] = OK;
    return value;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    checks[setting] = problem(error.message);
    return undefined;
  }
}

export async function loadSettings(env: GatewayEnv): Promise<LoadedSettings> {
  const plain = parsePlainSettings(env);
  const logLevel = logLevelSetting(env.LOG_LEVEL);
  const apiDocs = apiDocsSetting(env.API_DOCS);
  const checks: Record<string, Check> = { ...plain.checks, LOG_LEVEL: logLevel.check, API_DOCS: apiDocs.check };
  const verify =
    String(env.SPARKPAY_VERIFY_RESPONSES ?? "")
      .trim()
      .toLowerCase() !== "off";
  const privateKeys = await checked(checks, "SPARKPAY_PRIVATE_KEY", () => merchantKeys(env.SPARKPAY_PRIVATE_KEY));
  const platform = verify
    ? await checked(checks, "SPARKPAY_PLATFORM_PUBLIC_KEY", () => platformKeys(env.SPARKPAY_PLATFORM_PUBLIC_KEY))
    : undefined;
  if (!verify) checks.SPARKPAY_PLATFORM_PUBLIC_KEY = unused("not used: SPARKPAY_VERIFY_RESPONSES is off");
  const callerKeys = await checked(checks, "GATEWAY_API_KEYS", () => parseCallerKeys(env.GATEWAY_API_KEYS));
  for (const name of ALL_BINDINGS) checks[name] = bindingCheck(env, name);
  const webhooks = readWebhookSettings(env);
  Object.assign(checks, webhooks.checks);
  if (privateKeys && platform && keysSwapped(env.SPARKPAY_PRIVATE_KEY, env.SPARKPAY_PLATFORM_PUBLIC_KEY)) {
    checks.SPARKPAY_PLATFORM_PUBLIC_KEY = problem(SWAPPED_KEYS);
  }
  for (const name of SETTING_NAMES) {
    if (!isPlaceholder(env[name])) continue;
    const message = `${name} is still the placeholder (${PLACEHOLDER}…) from the example configuration; set the real value.`;
    checks[name] = (ADVISORY_SETTINGS as readonly string[]).includes(name) ? warning(message) : problem(message);
  }
  const report = { ready: !Object.values(checks).some(isProblem), checks };
  const closesWork = !Object.entries(checks).some(stopsCloses);
  const settings =
    closesWork && plain.values && privateKeys && callerKeys
      ? {
          ...plain.values,
          privateKeys,
          privateKeysDer: privateKeysDer(MERCHANT_KEY_SETTING, env.SPARKPAY_PRIVATE_KEY),
          platformKeys: platform,
          callerKeys,
        }
      : undefined;
  return { report, settings, callerKeys, logLevel: logLevel.level, docsEnabled: apiDocs.enabled, webhooks };
}

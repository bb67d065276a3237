import * as v from "valibot";
import {
  CONFIRM_MODES,
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
} from "../sparkpay/constants";
import { OAEP_MGF1_HASHES } from "../sparkpay/oaep-decrypter";
import { type Check, OK, problem } from "./check";
import { isAllowedUrl, isUrl } from "./urls";
import { present } from "./values";

/** The plain settings (vars, not secrets or bindings): valibot schemas with messages that name the setting. */

/** How long a close job keeps retrying after its close_at before it fails: default 72 h, 1 min to 30 days. */
export const DEFAULT_GIVE_UP_AFTER_S = 259_200;
const MIN_GIVE_UP_AFTER_S = 60;
const MAX_GIVE_UP_AFTER_S = 2_592_000;
/** How long after a job ends `closed` it checks the order once more (late payments): default 15 min, 0 off, ≤ 7 days. */
export const DEFAULT_RECHECK_AFTER_S = 900;
const MAX_RECHECK_AFTER_S = 604_800;

/** How many durable close rounds may run against SparkPay at once (the round gate): default 20, 0 off, ≤ 1000. */
export const DEFAULT_ROUNDS_AT_ONCE = 20;
const MAX_ROUNDS_AT_ONCE = 1000;
/**
 * How late a live job must be before the repair gives up on an instance that still says it runs: default 10 min,
 * 1 min to 1 day (npm start sets 60: locally, every instance that slept through a restart says it runs).
 */
export const DEFAULT_REPAIR_STALLED_S = 600;
const MIN_REPAIR_STALLED_S = 60;
const MAX_REPAIR_STALLED_S = 86_400;

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

/** A setting that takes one of `choices`, in any letter case. */
function choice<const T extends readonly [string, ...string[]]>(setting: string, choices: T, fallback: T[number]) {
  const listed = choices.map((value) => `\`${value}\``).join(" or ");
  return v.optional(
    v.pipe(v.string(), v.toLowerCase(), v.picklist(choices, `${setting} must be ${listed}.`)),
    fallback,
  );
}

const PlainSettingsSchema = v.object({
  SPARKPAY_APP_ID: v.pipe(
    v.string("SPARKPAY_APP_ID is not set; it is the AppID of your SparkPay application."),
    v.regex(/^[\x21-\x7e]{1,128}$/, "SPARKPAY_APP_ID must be 1-128 visible ASCII characters, as SparkPay shows it."),
  ),
  SPARKPAY_BASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.check(isUrl, "SPARKPAY_BASE_URL is not a URL."),
      v.check(
        (text) => isAllowedUrl(text, { path: false }),
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
  SPARKPAY_VERIFY_RESPONSES: choice("SPARKPAY_VERIFY_RESPONSES", ["required", "off"], "required"),
  SPARKPAY_CONFIRM_CLOSES: choice("SPARKPAY_CONFIRM_CLOSES", CONFIRM_MODES, "ambiguous"),
  CLOSE_GIVE_UP_AFTER_S: wholeNumber(
    "CLOSE_GIVE_UP_AFTER_S",
    MIN_GIVE_UP_AFTER_S,
    MAX_GIVE_UP_AFTER_S,
    DEFAULT_GIVE_UP_AFTER_S,
  ),
  CLOSE_RECHECK_AFTER_S: wholeNumber("CLOSE_RECHECK_AFTER_S", 0, MAX_RECHECK_AFTER_S, DEFAULT_RECHECK_AFTER_S),
  CLOSE_ROUNDS_AT_ONCE: wholeNumber("CLOSE_ROUNDS_AT_ONCE", 0, MAX_ROUNDS_AT_ONCE, DEFAULT_ROUNDS_AT_ONCE),
  CLOSE_REPAIR_STALLED_S: wholeNumber(
    "CLOSE_REPAIR_STALLED_S",
    MIN_REPAIR_STALLED_S,
    MAX_REPAIR_STALLED_S,
    DEFAULT_REPAIR_STALLED_S,
  ),
  /** Where SparkPay reaches this gateway (the notify_url it is given is this plus the notifications route). */
  GATEWAY_PUBLIC_URL: v.optional(
    v.pipe(
      v.string(),
      v.check(isUrl, "GATEWAY_PUBLIC_URL is not a URL."),
      v.check(
        (text) => isAllowedUrl(text, { path: true }),
        "GATEWAY_PUBLIC_URL must be the gateway's https:// URL as SparkPay reaches it, without credentials, query or " +
          "fragment (http:// only on 127.0.0.1 for a local run).",
      ),
      v.transform((text) => text.replace(/\/+$/, "")),
    ),
  ),
  SPARKPAY_NOTIFY_OAEP_MGF1: v.optional(
    v.pipe(
      v.string(),
      v.toUpperCase(),
      v.picklist(
        OAEP_MGF1_HASHES,
        "SPARKPAY_NOTIFY_OAEP_MGF1 must be `SHA-256` or `SHA-1` (MGF1's hash in the OAEP of a notification's aes_key).",
      ),
    ),
    "SHA-256",
  ),
});

export type PlainSettingName = keyof typeof PlainSettingsSchema.entries;
export type PlainSettings = v.InferOutput<typeof PlainSettingsSchema>;
export const PLAIN_SETTING_NAMES = Object.keys(PlainSettingsSchema.entries) as PlainSettingName[];

/** The plain settings parsed (when every one is usable) and one check per setting. */
export function parsePlainSettings(vars: Partial<Record<PlainSettingName, unknown>>): {
  values: PlainSettings | undefined;
  checks: Record<PlainSettingName, Check>;
} {
  const input = Object.fromEntries(PLAIN_SETTING_NAMES.map((name) => [name, present(vars[name])]));
  const parsed = v.safeParse(PlainSettingsSchema, input, { abortPipeEarly: true });
  const checks = Object.fromEntries(PLAIN_SETTING_NAMES.map((name) => [name, OK])) as Record<PlainSettingName, Check>;
  for (const issue of parsed.issues ?? []) {
    const name = String(issue.path?.[0]?.key) as PlainSettingName;
    if (checks[name]?.status === "ok") checks[name] = problem(issue.message);
  }
  return { values: parsed.success ? parsed.output : undefined, checks };
}

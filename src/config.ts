import * as v from "valibot";
import type { GatewayEnv } from "./env";
import { ConfigError } from "./errors";
import { SparkPayClient } from "./sparkpay/client";
import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from "./sparkpay/constants";
import { importPrivateKey, importPublicKeys } from "./sparkpay/keys";
import { createSigner } from "./sparkpay/signer";
import { createVerifier } from "./sparkpay/verifier";
import { USER_AGENT } from "./version";

/**
 * Settings, parsed once per isolate with valibot. Every message names the setting and what is
 * wrong with it; none repeats the value, because several settings are secrets.
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function isAllowedBaseUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return true; // v.url above has already reported it
  }
  return !url.search && !url.hash && (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)));
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
      v.check(isAllowedBaseUrl, "SPARKPAY_BASE_URL must be an https:// URL without query or fragment (http:// only for a local sandbox on 127.0.0.1)."),
    ),
    DEFAULT_BASE_URL,
  ),
  SPARKPAY_TIMEOUT_MS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,6}$/, `SPARKPAY_TIMEOUT_MS must be a whole number of milliseconds.`),
      v.transform(Number),
      v.minValue(MIN_TIMEOUT_MS, `SPARKPAY_TIMEOUT_MS must be at least ${MIN_TIMEOUT_MS}.`),
      v.maxValue(MAX_TIMEOUT_MS, `SPARKPAY_TIMEOUT_MS must be at most ${MAX_TIMEOUT_MS}.`),
    ),
    String(DEFAULT_TIMEOUT_MS),
  ),
  SPARKPAY_VERIFY_RESPONSES: v.optional(
    v.picklist(["required", "off"], "SPARKPAY_VERIFY_RESPONSES must be `required` or `off`."),
    "required",
  ),
});

/** Empty strings count as unset, so `SPARKPAY_TIMEOUT_MS = ""` in wrangler.toml means "use the default". */
function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parseSettings(env: GatewayEnv) {
  const result = v.safeParse(SettingsSchema, {
    SPARKPAY_APP_ID: present(env.SPARKPAY_APP_ID),
    SPARKPAY_BASE_URL: present(env.SPARKPAY_BASE_URL),
    SPARKPAY_TIMEOUT_MS: present(env.SPARKPAY_TIMEOUT_MS),
    SPARKPAY_VERIFY_RESPONSES: present(env.SPARKPAY_VERIFY_RESPONSES),
  });
  if (!result.success) throw new ConfigError(result.issues[0].message);
  return result.output;
}

/** The caller keys in GATEWAY_API_KEYS (comma-separated, so old and new keys overlap during rotation). */
export function parseCallerKeys(env: GatewayEnv): string[] {
  const keys = (env.GATEWAY_API_KEYS ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean);
  if (keys.length === 0) {
    throw new ConfigError("GATEWAY_API_KEYS is not set; it takes one or more caller keys, comma-separated (`wrangler secret put GATEWAY_API_KEYS`).");
  }
  return keys;
}

// Built once per isolate for each env object; keys inside are cached by their text as well.
const clients = new WeakMap<GatewayEnv, SparkPayClient>();

export async function sparkPayClientFor(env: GatewayEnv): Promise<SparkPayClient> {
  const cached = clients.get(env);
  if (cached) return cached;
  const settings = parseSettings(env);
  const verify = settings.SPARKPAY_VERIFY_RESPONSES === "required";
  const [privateKey, platformKeys] = await Promise.all([
    importPrivateKey(env.SPARKPAY_PRIVATE_KEY),
    verify ? importPublicKeys(env.SPARKPAY_PLATFORM_PUBLIC_KEY) : undefined,
  ]);
  const client = new SparkPayClient({
    appId: settings.SPARKPAY_APP_ID,
    baseUrl: settings.SPARKPAY_BASE_URL,
    timeoutMs: settings.SPARKPAY_TIMEOUT_MS,
    userAgent: USER_AGENT,
    signer: createSigner(privateKey),
    verifier: platformKeys ? createVerifier(platformKeys) : undefined,
  });
  clients.set(env, client);
  return client;
}

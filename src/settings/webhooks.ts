import { ConfigError } from "../sparkpay/errors";
import { type Check, OK, problem, unused } from "./check";
import { isAllowedUrl } from "./urls";
import { PLACEHOLDER, present } from "./values";

/** Optional: the durable closes' webhooks (a var and a secret). While they are wrong, no webhook is delivered. */
export const WEBHOOK_SETTINGS = ["CLOSE_WEBHOOK_URL", "CLOSE_WEBHOOK_SECRET"] as const;
export type WebhookSettingName = (typeof WEBHOOK_SETTINGS)[number];
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

export interface WebhookSettings {
  url: string;
  secret: string;
}

/** Whether CLOSE_WEBHOOK_URL is set (an empty value means no webhooks): then CLOSE_WEBHOOK_SECRET is needed too. */
export function webhooksWanted(vars: { CLOSE_WEBHOOK_URL?: unknown }): boolean {
  return present(vars.CLOSE_WEBHOOK_URL) !== undefined;
}

const URL_RULE =
  "CLOSE_WEBHOOK_URL must be an https:// URL without credentials, query or fragment (a path is fine; " +
  "http:// only on 127.0.0.1/localhost), or empty for no webhooks.";

function secretProblem(secret: string | undefined): string | undefined {
  if (secret === undefined) {
    return (
      "CLOSE_WEBHOOK_SECRET is not set; CLOSE_WEBHOOK_URL needs it to sign the webhooks " +
      `(at least ${MIN_WEBHOOK_SECRET_LENGTH} characters, set with \`wrangler secret put\`).`
    );
  }
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH || secret.includes(PLACEHOLDER)) {
    return `CLOSE_WEBHOOK_SECRET must be at least ${MIN_WEBHOOK_SECRET_LENGTH} random characters.`;
  }
  return undefined;
}

export interface WebhookSetup {
  /** Where the webhooks go and their signing secret; undefined when CLOSE_WEBHOOK_URL is unset (no webhooks). */
  settings: WebhookSettings | undefined;
  /** Set while the settings are wrong: the ConfigError (a 503 naming the setting) for whatever needs them. */
  error: ConfigError | undefined;
  checks: Record<WebhookSettingName, Check>;
}

/** The webhook settings, checked: two checks, so the report names the one to fix (the secret matters only with a URL). */
export function readWebhookSettings(vars: {
  CLOSE_WEBHOOK_URL?: unknown;
  CLOSE_WEBHOOK_SECRET?: unknown;
}): WebhookSetup {
  const url = present(vars.CLOSE_WEBHOOK_URL);
  if (url === undefined) {
    return {
      settings: undefined,
      error: undefined,
      checks: { CLOSE_WEBHOOK_URL: OK, CLOSE_WEBHOOK_SECRET: unused("not used: CLOSE_WEBHOOK_URL is not set") },
    };
  }
  if (url.includes(PLACEHOLDER) || !isAllowedUrl(url, { path: true })) {
    return {
      settings: undefined,
      error: new ConfigError(URL_RULE),
      checks: {
        CLOSE_WEBHOOK_URL: problem(URL_RULE),
        CLOSE_WEBHOOK_SECRET: unused("not checked until CLOSE_WEBHOOK_URL is"),
      },
    };
  }
  const secret = present(vars.CLOSE_WEBHOOK_SECRET);
  const wrong = secretProblem(secret);
  if (wrong !== undefined) {
    return {
      settings: undefined,
      error: new ConfigError(wrong),
      checks: { CLOSE_WEBHOOK_URL: OK, CLOSE_WEBHOOK_SECRET: problem(wrong) },
    };
  }
  return {
    settings: { url, secret: secret as string },
    error: undefined,
    checks: { CLOSE_WEBHOOK_URL: OK, CLOSE_WEBHOOK_SECRET: OK },
  };
}

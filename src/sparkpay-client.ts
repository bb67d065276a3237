import { requireSettings, type Settings } from "./config";
import type { GatewayEnv } from "./env";
import { SparkPayClient } from "./sparkpay/client";
import { createSigner } from "./sparkpay/signer";
import { ACCEPT_UNVERIFIED, createResponseValidator } from "./sparkpay/validator";
import { createVerifier } from "./sparkpay/verifier";
import { USER_AGENT } from "./version";

/**
 * The SparkPay client for this Worker's settings. One per settings object per isolate: the client
 * remembers which merchant key SparkPay accepts, so it must outlive a request.
 */
const clients = new WeakMap<Settings, SparkPayClient>();

export function clientFor(settings: Settings): SparkPayClient {
  let client = clients.get(settings);
  if (!client) {
    client = new SparkPayClient({
      appId: settings.SPARKPAY_APP_ID,
      baseUrl: settings.SPARKPAY_BASE_URL,
      timeoutMs: settings.SPARKPAY_TIMEOUT_MS,
      maxRetries: settings.SPARKPAY_MAX_RETRIES,
      deadlineMs: settings.SPARKPAY_DEADLINE_MS,
      maxResponseBytes: settings.SPARKPAY_MAX_RESPONSE_BYTES,
      userAgent: USER_AGENT,
      signer: createSigner(settings.privateKeys),
      validator: settings.platformKeys
        ? createResponseValidator(createVerifier(settings.platformKeys))
        : ACCEPT_UNVERIFIED,
    });
    clients.set(settings, client);
  }
  return client;
}

/** The client for `env`, or the ConfigError that names the setting to fix. */
export async function sparkPayClient(env: GatewayEnv): Promise<SparkPayClient> {
  return clientFor(await requireSettings(env));
}

import { KeyFormatError } from "../sparkpay/errors";
import { importPrivateKeys, importPublicKeys } from "../sparkpay/key-import";
import { pairsWithPrivateKey } from "../sparkpay/key-pairs";

/** The key settings: the protocol's key import under the settings' names, with fixes worded for Workers. */
export const MERCHANT_KEY_SETTING = "SPARKPAY_PRIVATE_KEY";
export const PLATFORM_KEY_SETTING = "SPARKPAY_PLATFORM_PUBLIC_KEY";

/** A key error whose fix is "store it", with how to store it here: a Worker secret (locally, .dev.vars). */
export function withDeploymentFix(error: unknown): unknown {
  if (!(error instanceof KeyFormatError) || error.storageHint === undefined) return error;
  const { setting } = error;
  const fix =
    error.storageHint === "store-key"
      ? `store the key with \`wrangler secret put ${setting} < key.pem\` (or add it to .dev.vars for local runs).`
      : `store the whole PEM file, from -----BEGIN to -----END, e.g. \`wrangler secret put ${setting} < key.pem\`.`;
  return new KeyFormatError(setting, error.problem, fix);
}

async function named<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw withDeploymentFix(error);
  }
}

/** SPARKPAY_PRIVATE_KEY: the current merchant key and, during a rotation, the next. */
export function merchantKeys(raw: string | undefined): Promise<CryptoKey[]> {
  return named(() => importPrivateKeys(raw, MERCHANT_KEY_SETTING));
}

/** SPARKPAY_PLATFORM_PUBLIC_KEY: every platform key in force. */
export function platformKeys(raw: string | undefined): Promise<CryptoKey[]> {
  return named(() => importPublicKeys(raw, PLATFORM_KEY_SETTING));
}

export const SWAPPED_KEYS =
  "SPARKPAY_PLATFORM_PUBLIC_KEY is the public half of your own SPARKPAY_PRIVATE_KEY (the keys are swapped " +
  "or mixed up). It must be the platform public key SparkPay gives you, from the SparkPay dashboard.";

/** Whether the platform key setting holds the public half of the merchant's own key (both must parse). */
export function keysSwapped(merchantPem: string | undefined, platformPem: string | undefined): boolean {
  return pairsWithPrivateKey(
    { setting: MERCHANT_KEY_SETTING, pem: merchantPem },
    { setting: PLATFORM_KEY_SETTING, pem: platformPem },
  );
}

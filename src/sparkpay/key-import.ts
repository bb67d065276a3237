import { MIN_RSA_MODULUS_BITS, RSA_PKCS1_SHA256 } from "./constants";
import { KeyFormatError } from "./errors";
import { FIX_NEW_RSA_KEY, FIX_TO_PKCS8 } from "./key-fixes";
import { keyName, privateKeysDer, publicKeysDer } from "./key-formats";

/**
 * Key import: the merchant private key(s) for signing, the platform public key(s) for verifying. `setting` is what
 * the caller calls the key's source, for its errors.
 */

function requireModulus(setting: string, key: CryptoKey): CryptoKey {
  const bits = (key.algorithm as { modulusLength?: number }).modulusLength ?? 0;
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new KeyFormatError(
      setting,
      `is an RSA-${bits} key; at least RSA-${MIN_RSA_MODULUS_BITS} is required.`,
      FIX_NEW_RSA_KEY,
    );
  }
  return key;
}

// Cache the resolved keys (not in-flight promises) per isolate, keyed by the key text: importing
// costs far more than a signature, and a rejected promise must never be cached.
const privateKeys = new Map<string, CryptoKey[]>();
const publicKeys = new Map<string, CryptoKey[]>();

export async function importPrivateKeys(raw: string | undefined, setting: string): Promise<CryptoKey[]> {
  const cached = privateKeys.get(raw ?? "");
  if (cached) return cached;
  const ders = privateKeysDer(setting, raw);
  const keys = await Promise.all(
    ders.map(async (der, index) => {
      const name = keyName(setting, index, ders.length);
      let key: CryptoKey;
      try {
        key = await crypto.subtle.importKey("pkcs8", der, RSA_PKCS1_SHA256, false, ["sign"]);
      } catch {
        throw new KeyFormatError(
          name,
          "has the shape of an RSA private key but its contents are damaged.",
          FIX_TO_PKCS8,
        );
      }
      return requireModulus(name, key);
    }),
  );
  privateKeys.set(raw!, keys);
  return keys;
}

export async function importPublicKeys(raw: string | undefined, setting: string): Promise<CryptoKey[]> {
  const cached = publicKeys.get(raw ?? "");
  if (cached) return cached;
  const keys = await Promise.all(
    publicKeysDer(setting, raw).map(async (der, index) => {
      const name = `${setting} (key ${index + 1})`;
      try {
        return requireModulus(name, await crypto.subtle.importKey("spki", der, RSA_PKCS1_SHA256, false, ["verify"]));
      } catch (error) {
        if (error instanceof KeyFormatError) throw error;
        throw new KeyFormatError(
          name,
          "has the shape of an RSA public key but its contents are damaged.",
          "copy the platform public key again from your SparkPay dashboard.",
        );
      }
    }),
  );
  publicKeys.set(raw!, keys);
  return keys;
}

import { decodeBase64 } from "./base64";
import { RSA_PKCS1_SHA256 } from "./constants";
import { signatureMessageBytes } from "./message";

/** Checks a SparkPay signature against every platform key in force (more than one during a key switch). */
export interface Verifier {
  verify(timestamp: string, nonce: string, body: string | Uint8Array, signature: string): Promise<boolean>;
}

export function createVerifier(platformKeys: readonly CryptoKey[]): Verifier {
  return {
    async verify(timestamp, nonce, body, signature) {
      const signatureBytes = decodeBase64(signature);
      if (!signatureBytes) return false;
      const message = signatureMessageBytes(timestamp, nonce, body);
      for (const key of platformKeys) {
        if (await crypto.subtle.verify(RSA_PKCS1_SHA256, key, signatureBytes, message)) return true;
      }
      return false;
    },
  };
}

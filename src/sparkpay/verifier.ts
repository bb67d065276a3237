import { decodeBase64 } from "./base64";
import { RSA_PKCS1_SHA256 } from "./constants";
import { signatureMessageBytes } from "./message";

/** Checks a SparkPay signature against every platform key in force (more than one during a key switch). */
export interface Verifier {
  verify(timestamp: string, nonce: string, body: string | Uint8Array, signature: string): Promise<boolean>;
  /** A signature over `message` itself (a notification's decrypted JSON, exactly as decrypted). */
  verifyMessage(message: Uint8Array<ArrayBuffer>, signature: string): Promise<boolean>;
}

export function createVerifier(platformKeys: readonly CryptoKey[]): Verifier {
  return {
    verify(timestamp, nonce, body, signature) {
      return verifyMessage(signatureMessageBytes(timestamp, nonce, body), signature);
    },
    verifyMessage,
  };

  async function verifyMessage(message: Uint8Array<ArrayBuffer>, signature: string): Promise<boolean> {
    const signatureBytes = decodeBase64(signature);
    if (!signatureBytes) return false;
    for (const key of platformKeys) {
      if (await crypto.subtle.verify(RSA_PKCS1_SHA256, key, signatureBytes, message)) return true;
    }
    return false;
  }
}

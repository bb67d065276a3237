import { encodeBase64 } from "./base64";
import { RSA_PKCS1_SHA256 } from "./constants";
import { signatureMessageBytes } from "./message";

/**
 * Signs SparkPay messages with a merchant private key (SHA256withRSA, standard Base64). Holds the
 * current key and, during a rotation, the next one.
 */
export interface Signer {
  readonly keyCount: number;
  sign(timestamp: string, nonce: string, body: string, keyIndex: number): Promise<string>;
}

export function createSigner(privateKeys: readonly CryptoKey[]): Signer {
  return {
    keyCount: privateKeys.length,
    async sign(timestamp, nonce, body, keyIndex) {
      const message = signatureMessageBytes(timestamp, nonce, body);
      const signature = await crypto.subtle.sign(RSA_PKCS1_SHA256, privateKeys[keyIndex]!, message);
      return encodeBase64(new Uint8Array(signature));
    },
  };
}

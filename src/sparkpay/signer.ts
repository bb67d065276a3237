import { encodeBase64 } from "./base64";
import { signatureMessageBytes } from "./message";

/** Signs SparkPay messages with the merchant private key (SHA256withRSA, standard Base64). */
export interface Signer {
  sign(timestamp: string, nonce: string, body: string): Promise<string>;
}

export function createSigner(privateKey: CryptoKey): Signer {
  return {
    async sign(timestamp, nonce, body) {
      const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, signatureMessageBytes(timestamp, nonce, body));
      return encodeBase64(new Uint8Array(signature));
    },
  };
}

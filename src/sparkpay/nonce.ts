import { NONCE_LENGTH } from "./constants";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** Largest multiple of 62 below 256: bytes at or above it are dropped so every character is equally likely. */
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);

/** A fresh nonce of NONCE_LENGTH alphanumerics from the CSPRNG. */
export function createNonce(length = NONCE_LENGTH): string {
  let nonce = "";
  while (nonce.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < UNBIASED_LIMIT) nonce += ALPHABET[byte % ALPHABET.length];
      if (nonce.length === length) break;
    }
  }
  return nonce;
}

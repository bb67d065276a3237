import {
  RESPONSE_HEADER_NONCE,
  RESPONSE_HEADER_SIGNATURE,
  RESPONSE_HEADER_TIMESTAMP,
  RESPONSE_TIMESTAMP_TOLERANCE_S,
} from "./constants";
import { SparkPaySignatureError } from "./errors";
import { NonceCache } from "./nonce-cache";
import type { RawResponse } from "./raw-response";
import type { Verifier } from "./verifier";

/** Unix seconds; 13 digits are read as milliseconds (Alipay's v3 answers carry those). */
const UNIX_TIMESTAMP = /^\d{1,13}$/;
const MILLISECOND_DIGITS = 13;

/** Decides whether a SparkPay answer is authentic and fresh; throws SparkPaySignatureError if not. */
export interface ResponseValidator {
  validate(response: RawResponse, nowMs: number): Promise<void>;
}

/**
 * Checks the signature headers and the timestamp window, then the signature over the raw body
 * exactly as it arrived (before any JSON parsing), naming what failed.
 */
export function createResponseValidator(
  verifier: Verifier,
  { toleranceS = RESPONSE_TIMESTAMP_TOLERANCE_S, nonces = new NonceCache() } = {},
): ResponseValidator {
  return {
    async validate({ headers, bytes, attempt }, nowMs) {
      const fail = (message: string) => new SparkPaySignatureError(message, attempt);
      const signature = headers.get(RESPONSE_HEADER_SIGNATURE);
      const timestamp = headers.get(RESPONSE_HEADER_TIMESTAMP);
      const nonce = headers.get(RESPONSE_HEADER_NONCE);
      if (!signature || !timestamp || !nonce) {
        const missing = [
          !signature && RESPONSE_HEADER_SIGNATURE,
          !timestamp && RESPONSE_HEADER_TIMESTAMP,
          !nonce && RESPONSE_HEADER_NONCE,
        ].filter(Boolean);
        throw fail(`SparkPay's response has no ${missing.join(", ")} header.`);
      }
      if (!UNIX_TIMESTAMP.test(timestamp)) {
        throw fail("SparkPay's response timestamp is not Unix seconds (or milliseconds).");
      }
      // The signed string keeps the header as sent; only the freshness check reads it as time.
      const signedAtS =
        timestamp.length === MILLISECOND_DIGITS ? Math.floor(Number(timestamp) / 1000) : Number(timestamp);
      const skewS = Math.abs(Math.floor(nowMs / 1000) - signedAtS);
      if (skewS > toleranceS) {
        throw fail(`SparkPay's response timestamp is ${skewS} s from this gateway's clock (allowed: ${toleranceS} s).`);
      }
      if (!(await verifier.verify(timestamp, nonce, bytes, signature))) {
        throw fail("SparkPay's response signature does not match any configured platform public key.");
      }
      // Remembered only once verified, so a forged answer cannot make a genuine one look replayed.
      if (!nonces.remember(nonce, (signedAtS + toleranceS + 1) * 1000, nowMs)) {
        throw fail("SparkPay's response was replayed: its signed nonce was already seen within the timestamp window.");
      }
    },
  };
}

/**
 * The validator for SPARKPAY_VERIFY_RESPONSES=off: accepts every answer unchecked (a null object,
 * so the response path has no "is verification on?" branches).
 */
export const ACCEPT_UNVERIFIED: ResponseValidator = {
  async validate() {},
};

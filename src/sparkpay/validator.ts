import {
  RESPONSE_HEADER_NONCE,
  RESPONSE_HEADER_SIGNATURE,
  RESPONSE_HEADER_TIMESTAMP,
  RESPONSE_TIMESTAMP_TOLERANCE_S,
} from "./constants";
import { SparkPaySignatureError } from "./errors";
import type { Verifier } from "./verifier";

const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Checks that a SparkPay response is authentic and fresh, over the raw body text exactly as it
 * arrived (before any JSON parsing). Throws SparkPaySignatureError naming what failed.
 */
export async function validateResponseSignature(
  verifier: Verifier,
  headers: Headers,
  rawBody: string | Uint8Array,
  nowMs: number,
  toleranceS = RESPONSE_TIMESTAMP_TOLERANCE_S,
): Promise<void> {
  const signature = headers.get(RESPONSE_HEADER_SIGNATURE);
  const timestamp = headers.get(RESPONSE_HEADER_TIMESTAMP);
  const nonce = headers.get(RESPONSE_HEADER_NONCE);
  if (!signature || !timestamp || !nonce) {
    const missing = [
      !signature && RESPONSE_HEADER_SIGNATURE,
      !timestamp && RESPONSE_HEADER_TIMESTAMP,
      !nonce && RESPONSE_HEADER_NONCE,
    ].filter(Boolean);
    throw new SparkPaySignatureError(`SparkPay's response has no ${missing.join(", ")} header.`);
  }
  if (!UNIX_SECONDS.test(timestamp))
    throw new SparkPaySignatureError("SparkPay's response timestamp is not Unix seconds.");
  const skewS = Math.abs(Math.floor(nowMs / 1000) - Number(timestamp));
  if (skewS > toleranceS) {
    throw new SparkPaySignatureError(
      `SparkPay's response timestamp is ${skewS} s from this gateway's clock (allowed: ${toleranceS} s).`,
    );
  }
  if (!(await verifier.verify(timestamp, nonce, rawBody, signature))) {
    throw new SparkPaySignatureError(
      "SparkPay's response signature does not match any configured platform public key.",
    );
  }
}

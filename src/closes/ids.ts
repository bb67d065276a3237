import { sha256Hex } from "../sparkpay/hex";
import { foldAscii, IDENTIFIER_MAX_LENGTH, isIdentifier } from "../sparkpay/identifiers";

/**
 * How an order and its jobs are named in D1 and in Workflows. SparkPay compares request_no without regard
 * to case, so the order's key folds it, ASCII letters only (see sparkpay/identifiers.ts). The store relies on
 * merchant_no's rule for "/" to end the merchant in an order key.
 */

/** Throws a TypeError: the routes validate identifiers first, so a bad one here is a bug. */
export function orderKey(merchantNo: string, requestNo: string): string {
  if (!isIdentifier(merchantNo)) throw new TypeError("merchant_no must be 1-64 of A-Z a-z 0-9 _.");
  if (typeof requestNo !== "string" || requestNo.length === 0 || requestNo.length > IDENTIFIER_MAX_LENGTH) {
    throw new TypeError(`request_no must be 1-${IDENTIFIER_MAX_LENGTH} characters.`);
  }
  return `${merchantNo}/${foldAscii(requestNo)}`;
}

/**
 * What every instance id of the order starts with: `close_` and 40 hex digits (160 bits) of the key's
 * SHA-256. A digest, because Workflow ids allow only [A-Za-z0-9_-] and at most 64 characters.
 */
export async function instanceIdPrefix(key: string): Promise<string> {
  return `close_${(await sha256Hex(key)).slice(0, 40)}`;
}

/** The SQL store builds the same text (`prefix || '_g' || generation`), so both must agree. */
export function instanceId(prefix: string, generation: number): string {
  return `${prefix}_g${generation}`;
}

/** Cloudflare's rule for Workflow instance ids. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

/**
 * How an order and its jobs are named in D1 and in Workflows. SparkPay compares request_no without regard
 * to case, so the order's key folds it, but only A-Z: Unicode folding would turn the Kelvin sign into "k"
 * and merge orders SparkPay keeps apart.
 */

/** SparkPay's merchant_no rule; the store relies on it for "/" to end the merchant in an order key. */
const MERCHANT_NO = /^[A-Za-z0-9_]{1,64}$/;
const MAX_REQUEST_NO_LENGTH = 64;

export function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}

/** Throws a TypeError: the routes validate identifiers first, so a bad one here is a bug. */
export function orderKey(merchantNo: string, requestNo: string): string {
  if (!MERCHANT_NO.test(merchantNo)) throw new TypeError("merchant_no must be 1-64 of A-Z a-z 0-9 _.");
  if (typeof requestNo !== "string" || requestNo.length === 0 || requestNo.length > MAX_REQUEST_NO_LENGTH) {
    throw new TypeError(`request_no must be 1-${MAX_REQUEST_NO_LENGTH} characters.`);
  }
  return `${merchantNo}/${foldAscii(requestNo)}`;
}

const encoder = new TextEncoder();

/**
 * What every instance id of the order starts with: `close_` and 40 hex digits (160 bits) of the key's
 * SHA-256. A digest, because Workflow ids allow only [A-Za-z0-9_-] and at most 64 characters.
 */
export async function instanceIdPrefix(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(key)));
  const hex = [...digest.subarray(0, 20)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `close_${hex}`;
}

/** The SQL store builds the same text (`prefix || '_g' || generation`), so both must agree. */
export function instanceId(prefix: string, generation: number): string {
  return `${prefix}_g${generation}`;
}

/** Cloudflare's rule for Workflow instance ids. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

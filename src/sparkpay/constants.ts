/**
 * SparkPay protocol constants. Anything the public docs leave open is marked GUESS
 * (see ../../README.md, "What we guessed about SparkPay").
 */

export const DEFAULT_BASE_URL = "https://api.sparkpay.top";
export const CLOSE_ORDER_PATH = "/v4/pay/orders/close";

/** Per-attempt timeout. SparkPay answers a close in well under a second; 8 s leaves room for a slow path without holding the caller for long. */
export const DEFAULT_TIMEOUT_MS = 8_000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 60_000;

/** Comparable SDKs (WeChat Pay, Alipay) reject responses signed more than 5 minutes from local time, either way. */
export const RESPONSE_TIMESTAMP_TOLERANCE_S = 300;

/** The nonce's length and alphabet are UNKNOWN; 32 alphanumerics (190 bits) is what every comparable API accepts. */
export const NONCE_LENGTH = 32;

/** RSA below 2048 bits is refused by SparkPay's own key rules and by every current guideline. */
export const MIN_RSA_MODULUS_BITS = 2048;

export const HEADER_APP_ID = "Sparkpay-App-Id";
export const HEADER_SIGNATURE = "Sparkpay-Signature";
export const HEADER_TIMESTAMP = "Sparkpay-Timestamp";
export const HEADER_NONCE = "Sparkpay-Nonce";

/** GUESS: responses are signed with the same three headers as requests (WeChat Pay API v3 layout). */
export const RESPONSE_HEADER_SIGNATURE = HEADER_SIGNATURE;
export const RESPONSE_HEADER_TIMESTAMP = HEADER_TIMESTAMP;
export const RESPONSE_HEADER_NONCE = HEADER_NONCE;

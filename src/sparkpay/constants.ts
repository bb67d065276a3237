/**
 * SparkPay protocol constants. Anything the public docs leave open is marked GUESS
 * (see docs/sparkpay-guesses.md).
 */

export const DEFAULT_BASE_URL = "https://api.sparkpay.top";
export const CLOSE_ORDER_PATH = "/v4/pay/orders/close";

/**
 * Per-attempt timeout. SparkPay answers a close in well under a second; 5 s leaves room for a slow
 * path while three attempts plus the confirming query still fit in DEFAULT_DEADLINE_MS.
 */
export const DEFAULT_TIMEOUT_MS = 5_000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 60_000;

/** Comparable SDKs (WeChat Pay, Alipay) reject responses signed more than 5 minutes from local time, either way. */
export const RESPONSE_TIMESTAMP_TOLERANCE_S = 300;

/**
 * Answers are read as a stream and abandoned past this many (decoded) bytes: a close answer is a
 * few hundred bytes, and an unbounded read lets one answer take the isolate's memory.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
export const MIN_MAX_RESPONSE_BYTES = 1024;
export const MAX_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Response nonces remembered per isolate to refuse a replayed answer within the timestamp window.
 * Bounded: at about 100 bytes each, 50,000 is ~5 MB; past it the oldest are forgotten first.
 */
export const RESPONSE_NONCE_CACHE_SIZE = 50_000;

/** What is relayed from a refusal: a code of at most 64 visible characters, a message cut at 512. */
export const MAX_REFUSAL_CODE_LENGTH = 64;
export const MAX_REFUSAL_MESSAGE_LENGTH = 512;
/** Retry-After is passed on capped at one day: a far date must not tell callers to wait for years. */
export const MAX_RETRY_AFTER_S = 86_400;
/** SparkPay's request id is kept (logs, callers) only when short and plain. */
export const SPARKPAY_REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The nonce's length and alphabet are UNKNOWN; 32 alphanumerics (190 bits) is what every comparable API accepts. */
export const NONCE_LENGTH = 32;

/** SHA256withRSA: the one algorithm SparkPay signs with, both ways (import, sign and verify). */
export const RSA_PKCS1_SHA256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** RSA below 2048 bits is refused by SparkPay's own key rules and by every current guideline. */
export const MIN_RSA_MODULUS_BITS = 2048;

export const HEADER_APP_ID = "Sparkpay-App-Id";
export const HEADER_SIGNATURE = "Sparkpay-Signature";
export const HEADER_TIMESTAMP = "Sparkpay-Timestamp";
export const HEADER_NONCE = "Sparkpay-Nonce";

/** GUESS: where SparkPay puts its own request id on a response; the first present is logged. */
export const RESPONSE_REQUEST_ID_HEADERS = ["Sparkpay-Request-Id", "Request-Id", "X-Request-Id"] as const;

/** GUESS: responses are signed with the same three headers as requests (WeChat Pay API v3 layout). */
export const RESPONSE_HEADER_SIGNATURE = HEADER_SIGNATURE;
export const RESPONSE_HEADER_TIMESTAMP = HEADER_TIMESTAMP;
export const RESPONSE_HEADER_NONCE = HEADER_NONCE;

export const QUERY_ORDER_PATH_PREFIX = "/v4/pay/orders/";

/** Payment Order Creation, standard and Pro (fiat pricing, crypto payment), and the Pro edition's query. */
export const CREATE_ORDER_PATH = "/v4/pay/cashier";
export const CREATE_PRO_ORDER_PATH = "/v4/pro/pay/cashier";
export const QUERY_PRO_ORDER_PATH_PREFIX = "/v4/pro/pay/orders/";

/** Which SparkPay edition an order belongs to: where it is created and queried. */
export const EDITIONS = {
  standard: { create: CREATE_ORDER_PATH, queryPrefix: QUERY_ORDER_PATH_PREFIX },
  pro: { create: CREATE_PRO_ORDER_PATH, queryPrefix: QUERY_PRO_ORDER_PATH_PREFIX },
} as const;
export type Edition = keyof typeof EDITIONS;

/**
 * GUESS: what Payment Order Query refuses an order SparkPay does not have with (undocumented; 40009 is "parameter
 * error", the refusal left for a well-formed request about nothing). Only this refusal lets a creation whose answer
 * was lost be called "not created"; any other answer leaves it unknown.
 */
export const NO_SUCH_ORDER_CODES: ReadonlySet<string> = new Set(["40009"]);

/** SparkPay's checkout link is kept and relayed only when it is a URL of sane length. */
export const MAX_CASHIER_URL_LENGTH = 4096;

/** Retries after the first attempt for failures that are safe to repeat (network, timeout, 500/502/503/504). */
export const DEFAULT_MAX_RETRIES = 2;
export const MAX_MAX_RETRIES = 5;
/**
 * One deadline over every attempt, backoff and the confirming query: 20 s keeps the whole call
 * inside the 30 s most HTTP clients wait, with room for the caller's own network.
 */
export const DEFAULT_DEADLINE_MS = 20_000;
/** Full-jitter exponential backoff (AWS Architecture Blog): sleep random(0, min(cap, base * 2^n)). */
export const RETRY_BASE_DELAY_MS = 100;
export const RETRY_MAX_DELAY_MS = 2_000;
/** An attempt with less time than this left would only add a timeout to the caller's wait. */
export const MIN_ATTEMPT_MS = 50;

/** SparkPay's "request signature check failed": the merchant key does not match the uploaded public key. */
export const SIGNATURE_REJECTED_CODE = "40000";

/**
 * Documented refusals about the request itself (signature, AppID, parameters, merchant), never about
 * the order's state: after one of these, asking Payment Order Query would settle nothing. Any other
 * refusal (40009 "parameter error", codes we do not know) may mean "already closed", so it is checked.
 */
export const DEFINITIVE_REFUSAL_CODES: ReadonlySet<string> = new Set([
  "40000",
  "40001",
  "40002",
  "40003",
  "40004",
  "40005",
  "40006",
  "40007",
  "40008",
  "40010",
]);

/** SparkPay's "application call limit exceeded". */
export const RATE_LIMITED_CODE = "40011";
/** SparkPay's HTTP statuses that mean the gateway's own credentials or application were refused. */
export const CREDENTIALS_REFUSED_STATUSES: ReadonlySet<number> = new Set([401, 403]);
/** The only pay_status the docs name; the one close-and-confirm looks for. */
export const PAY_STATUS_CLOSED = "CLOSED";
/**
 * The pay_status of an order a customer can still pay: a GUESS (SparkPay documents only CLOSED; "PAYING" is the
 * sandbox's word, after the docs' "paying" wording). Used only to end a scheduled close job early when a verified
 * query after a notification shows anything else; should SparkPay's word differ, such jobs end not_closable early
 * (docs/sparkpay-guesses.md says how to see it).
 */
export const PAY_STATUS_OPEN = "PAYING";

/**
 * When a close is followed by Payment Order Query: `ambiguous`, only when the close's answer does not settle it (lost,
 * 5xx, a refusal, a "success" that does not say closed); `always`, also after every success (SparkPay's own docs ask
 * for the query after a close).
 */
export const CONFIRM_MODES = ["ambiguous", "always"] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];

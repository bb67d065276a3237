/**
 * Typed errors for everything that can go wrong talking to SparkPay. The gateway maps each class
 * to one HTTP status and code; other callers can branch on `instanceof`.
 */
export class SparkPayError extends Error {
  override name = "SparkPayError";
  /** How many requests were sent to SparkPay before giving up (set by the client's retry loop). */
  attempts = 1;
}

/** SparkPay refused the request with its own `{code, message}`; both pass through unchanged. */
export class SparkPayApiError extends SparkPayError {
  override name = "SparkPayApiError";
  constructor(
    readonly httpStatus: number,
    readonly code: string | number,
    readonly sparkpayMessage: string,
  ) {
    super(`SparkPay refused the request: HTTP ${httpStatus}, code ${code}`);
  }
}

/** SparkPay's call limit (HTTP 429 or code 40011). Never retried: that would only deepen the hole. */
export class SparkPayRateLimitError extends SparkPayError {
  override name = "SparkPayRateLimitError";
  constructor(
    readonly httpStatus: number,
    readonly code: string | number | undefined,
    readonly sparkpayMessage: string | undefined,
    /** Seconds, from SparkPay's Retry-After, when it sent one. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super("SparkPay's call limit for this application is exceeded.");
  }
}

/** SparkPay failed on its side (HTTP 5xx). */
export class SparkPayServerError extends SparkPayError {
  override name = "SparkPayServerError";
  constructor(readonly httpStatus: number) {
    super(`SparkPay answered HTTP ${httpStatus}.`);
  }
}

/** No HTTP answer at all: DNS, connect, TLS or a connection reset. */
export class SparkPayConnectionError extends SparkPayError {
  override name = "SparkPayConnectionError";
}

/** No answer within the per-attempt timeout (or what was left of the deadline). */
export class SparkPayTimeoutError extends SparkPayError {
  override name = "SparkPayTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`SparkPay did not answer within ${timeoutMs} ms.`);
  }
}

/** An answer that is not what the protocol promises: not JSON, wrong shape, or for another order. */
export class SparkPayInvalidResponseError extends SparkPayError {
  override name = "SparkPayInvalidResponseError";
}

/** A 2xx answer whose signature is missing, wrong, or outside the timestamp window. */
export class SparkPaySignatureError extends SparkPayError {
  override name = "SparkPaySignatureError";
}

/** Failures after which SparkPay may or may not have acted: the same request may be sent again. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof SparkPayConnectionError ||
    error instanceof SparkPayTimeoutError ||
    (error instanceof SparkPayServerError && [500, 502, 503, 504].includes(error.httpStatus))
  );
}

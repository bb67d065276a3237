/**
 * Typed errors for everything that can go wrong talking to SparkPay. The gateway maps each class
 * to one HTTP status and code; other callers can branch on `instanceof`.
 */
export class SparkPayError extends Error {
  override name = "SparkPayError";
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

/** No answer within the per-attempt timeout. */
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

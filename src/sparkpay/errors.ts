import type { OrderState } from "./schemas";

/**
 * Typed errors for everything that can go wrong talking to SparkPay. Each is complete when it is
 * made: it carries the number of requests sent for its operation so far (the attempt it ended on).
 * The gateway maps each class to one HTTP status and code; other callers can branch on `instanceof`.
 */
export class SparkPayError extends Error {
  override name = "SparkPayError";
  /**
   * SparkPay's own request id of the last answer in the operation (of any attempt, or of the confirming query),
   * for the caller to quote; set by SparkPayClient as the error leaves it.
   */
  sparkpayRequestId: string | undefined;
  /**
   * The order as a verified Payment Order Query showed it after this failure (its `data`, exactly as SparkPay sent it),
   * when the client asked and the query answered; set by SparkPayClient as the error leaves it.
   */
  order: OrderState | undefined;
  constructor(
    message: string,
    /** How many requests had been sent to SparkPay for this operation when it failed. */
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** SparkPay refused the request with its own `{code, message}`; both pass through unchanged. */
export class SparkPayApiError extends SparkPayError {
  override name = "SparkPayApiError";
  constructor(
    readonly httpStatus: number,
    readonly code: string | number,
    readonly sparkpayMessage: string,
    attempts: number,
  ) {
    super(`SparkPay refused the request: HTTP ${httpStatus}, code ${code}`, attempts);
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
    attempts: number,
  ) {
    super("SparkPay's call limit for this application is exceeded.", attempts);
  }
}

/** SparkPay failed on its side (HTTP 5xx). */
export class SparkPayServerError extends SparkPayError {
  override name = "SparkPayServerError";
  constructor(
    readonly httpStatus: number,
    attempts: number,
  ) {
    super(`SparkPay answered HTTP ${httpStatus}.`, attempts);
  }
}

/** No HTTP answer at all: DNS, connect, TLS or a connection reset. */
export class SparkPayConnectionError extends SparkPayError {
  override name = "SparkPayConnectionError";
}

/** No answer within the per-attempt timeout (or what was left of the deadline). */
export class SparkPayTimeoutError extends SparkPayError {
  override name = "SparkPayTimeoutError";
  constructor(
    readonly timeoutMs: number,
    attempts: number,
  ) {
    super(`SparkPay did not answer within ${timeoutMs} ms.`, attempts);
  }
}

/** An answer that is not what the protocol promises: not JSON, wrong shape, or for another order. */
export class SparkPayInvalidResponseError extends SparkPayError {
  override name = "SparkPayInvalidResponseError";
}

/**
 * A signed close "success" whose data says the order is not closed (e.g. a pay_status other than
 * CLOSED, as a replayed query answer carries). Settled by the confirming query.
 */
export class SparkPayNotClosedError extends SparkPayInvalidResponseError {
  override name = "SparkPayNotClosedError";
}

/**
 * SparkPay answered the close (a refusal, or a "success" that does not say closed) and a verified Payment Order Query
 * then showed the order with a pay_status other than CLOSED: the order is not closed, and its state is `order`. What
 * SparkPay said to the close, when it refused, is `refusal`. pay_status is passed on verbatim: SparkPay documents no
 * value but CLOSED, so none is interpreted.
 */
export class SparkPayOrderNotClosableError extends SparkPayError {
  override name = "SparkPayOrderNotClosableError";
  override readonly order: OrderState;
  constructor(
    order: OrderState,
    readonly refusal: SparkPayApiError | undefined,
    attempts: number,
  ) {
    super(`SparkPay shows the order as ${order.pay_status.slice(0, 64)}, not CLOSED.`, attempts);
    this.order = order;
  }
}

/** A 2xx answer whose signature is missing, wrong, or outside the timestamp window. */
export class SparkPaySignatureError extends SparkPayError {
  override name = "SparkPaySignatureError";
}

/**
 * A creation SparkPay may have carried out but whose answer the gateway could not read (lost, a 5xx, an answer that
 * failed verification or validation): `lost` is that failure. What a verified Payment Order Query then showed is the
 * kind: the order exists (`order`, its data verbatim; the checkout link is gone with the answer), SparkPay has no such
 * order, or the query could not tell.
 */
export class SparkPayCreationLostError extends SparkPayError {
  override name = "SparkPayCreationLostError";
  constructor(
    readonly outcome: "created" | "not_created" | "unknown",
    /** Undefined when an earlier try of the creation ended without knowing (the gateway asks before it creates). */
    readonly lost: SparkPayError | undefined,
    order?: OrderState,
  ) {
    const said = {
      created: "a verified query shows the order exists",
      not_created: "a verified query shows SparkPay has no such order",
      unknown: "the query that would tell whether the order exists did not answer",
    }[outcome];
    const what = lost
      ? `SparkPay's answer to the creation could not be read (${lost.message.replace(/\.$/, "")})`
      : "An earlier try of this creation ended without SparkPay's answer";
    super(`${what}; ${said}.`, lost?.attempts ?? 0);
    this.order = order;
  }
}

/**
 * A setting that is missing or malformed. The message names the setting, never its value. Key
 * problems (KeyFormatError) are a kind of it, so callers test one class.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * What a key's fix needs from wherever the key is stored. The protocol knows no secret store, so it names the need and
 * the Worker words it for its deployment (e.g. `wrangler secret put`).
 */
export type KeyStorageHint = "store-key" | "store-whole-pem";

/**
 * A key that cannot be used: names the key (`setting`, as the caller calls it), the problem and the fix. A kind of
 * ConfigError, so callers test one class.
 */
export class KeyFormatError extends ConfigError {
  override name = "KeyFormatError";
  constructor(
    readonly setting: string,
    readonly problem: string,
    readonly fix: string,
    readonly storageHint?: KeyStorageHint,
  ) {
    super(`${setting} ${problem} Fix: ${fix}`);
  }
}

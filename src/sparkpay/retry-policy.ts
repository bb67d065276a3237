import {
  CREDENTIALS_REFUSED_STATUSES,
  DEFINITIVE_REFUSAL_CODES,
  MIN_ATTEMPT_MS,
  RETRY_BASE_DELAY_MS,
  RETRY_MAX_DELAY_MS,
  SIGNATURE_REJECTED_CODE,
} from "./constants";
import {
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayNotClosedError,
  SparkPayServerError,
  SparkPayTimeoutError,
} from "./errors";

/**
 * The client's request policy as pure functions of (error, attempt, clock, randomness), so each rule
 * is tested as a table without a network or a wall clock.
 */

/** HTTP statuses after which SparkPay may be fine a moment later (gateway and availability errors). */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** Failures after which SparkPay may or may not have acted: the same request may be sent again. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof SparkPayConnectionError ||
    error instanceof SparkPayTimeoutError ||
    (error instanceof SparkPayServerError && RETRYABLE_STATUSES.has(error.httpStatus))
  );
}

/**
 * Full-jitter exponential backoff before retry number `retry` (1 for the first retry):
 * random(0, min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS · 2^(retry-1))), whole milliseconds.
 */
export function backoffDelayMs(retry: number, random: () => number): number {
  return Math.floor(random() * Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** (retry - 1)));
}

export interface RetryInput {
  error: unknown;
  /** The attempt that just failed, 1 for the first. */
  attempt: number;
  /** Retries allowed after the first attempt. */
  maxRetries: number;
  nowMs: number;
  deadlineMs: number;
  random: () => number;
}

/**
 * How long to wait before the next attempt, or undefined to stop: the failure is not safe to repeat,
 * the retries are used up, or waiting would leave the next attempt less than MIN_ATTEMPT_MS.
 */
export function retryDelayMs({
  error,
  attempt,
  maxRetries,
  nowMs,
  deadlineMs,
  random,
}: RetryInput): number | undefined {
  if (!isRetryable(error) || attempt > maxRetries) return undefined;
  const delay = backoffDelayMs(attempt, random);
  return nowMs + delay + MIN_ATTEMPT_MS > deadlineMs ? undefined : delay;
}

/** Whether another request fits before the deadline at all. */
export function hasTimeForAttempt(nowMs: number, deadlineMs: number): boolean {
  return deadlineMs - nowMs >= MIN_ATTEMPT_MS;
}

/** One attempt's timeout: the configured timeout, or what is left of the deadline if less. */
export function attemptTimeoutMs(timeoutMs: number, nowMs: number, deadlineMs: number): number {
  return Math.max(MIN_ATTEMPT_MS, Math.min(timeoutMs, deadlineMs - nowMs));
}

/**
 * Whether a failed close may still have closed the order (a lost answer, any 5xx, a refusal such
 * as "already closed", a "success" that does not say closed), so Payment Order Query should settle
 * it. Definitive refusals about the request itself, and refused credentials (the query would be
 * refused too), settle nothing and are not followed by a query.
 */
export function needsConfirmingQuery(error: unknown): boolean {
  return (
    error instanceof SparkPayConnectionError ||
    error instanceof SparkPayTimeoutError ||
    error instanceof SparkPayServerError ||
    error instanceof SparkPayNotClosedError ||
    (error instanceof SparkPayApiError &&
      !DEFINITIVE_REFUSAL_CODES.has(String(error.code)) &&
      !CREDENTIALS_REFUSED_STATUSES.has(error.httpStatus))
  );
}

/** SparkPay's 40000: it did not accept the merchant key's signature (and so did nothing). */
export function isSignatureRejection(error: unknown): boolean {
  return error instanceof SparkPayApiError && String(error.code) === SIGNATURE_REJECTED_CODE;
}

/**
 * The merchant key to re-sign with after `error`, or undefined: only after a signature rejection,
 * and then the other configured key, whichever it is, so a rotation works forwards, backwards
 * (SparkPay rolled back) and with the keys stored in either order.
 */
export function fallbackKey(key: number, keyCount: number, error: unknown): number | undefined {
  return isSignatureRejection(error) && keyCount > 1 ? (key + 1) % keyCount : undefined;
}

/**
 * Whether SparkPay accepted a key's signature, judged by the outcome of a request signed with it:
 * a success, or a refusal for any other reason than the signature.
 */
export function signatureAccepted(error: unknown | undefined): boolean {
  return error === undefined || (error instanceof SparkPayApiError && !isSignatureRejection(error));
}

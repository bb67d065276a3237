import { describe, expect, it } from "vitest";
import { MIN_ATTEMPT_MS, RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from "../../src/sparkpay/constants";
import {
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayInvalidResponseError,
  SparkPayRateLimitError,
  SparkPayServerError,
  SparkPaySignatureError,
  SparkPayTimeoutError,
} from "../../src/sparkpay/errors";
import {
  attemptTimeoutMs,
  backoffDelayMs,
  fallbackKey,
  hasTimeForAttempt,
  isRetryable,
  needsConfirmingQuery,
  retryDelayMs,
  signatureAccepted,
} from "../../src/sparkpay/retry-policy";

// The client's policy as tables: no network, no wall clock.

const refusal = (code: string | number, status = 400) => new SparkPayApiError(status, code, "refused", 1);
const failures = {
  "connection error": new SparkPayConnectionError("reset", 1),
  timeout: new SparkPayTimeoutError(5000, 1),
  "HTTP 500": new SparkPayServerError(500, 1),
  "HTTP 501": new SparkPayServerError(501, 1),
  "HTTP 502": new SparkPayServerError(502, 1),
  "HTTP 503": new SparkPayServerError(503, 1),
  "HTTP 504": new SparkPayServerError(504, 1),
  "HTTP 522 (Cloudflare: origin timed out)": new SparkPayServerError(522, 1),
  "refusal 40000 (signature)": refusal(40000),
  "refusal 40008 (unknown merchant)": refusal(40008),
  'refusal "40009" (parameter error; may mean already closed)': refusal("40009"),
  "refusal 49999 (a code we do not know)": refusal(49999),
  "rate limit (40011)": new SparkPayRateLimitError(429, 40011, "limit", 1, 1),
  "invalid response": new SparkPayInvalidResponseError("bad", 1),
  "bad signature": new SparkPaySignatureError("bad", 1),
  "a bug (TypeError)": new TypeError("x is undefined"),
};

describe("which failures are retried", () => {
  const retried = new Set(["connection error", "timeout", "HTTP 500", "HTTP 502", "HTTP 503", "HTTP 504"]);
  it.each(Object.entries(failures))("%s", (name, error) => {
    expect(isRetryable(error)).toBe(retried.has(name));
  });
});

describe("which failures are settled by the confirming Payment Order Query", () => {
  const settledByQuery = new Set([
    "connection error",
    "timeout",
    "HTTP 500",
    "HTTP 501",
    "HTTP 502",
    "HTTP 503",
    "HTTP 504",
    "HTTP 522 (Cloudflare: origin timed out)",
    'refusal "40009" (parameter error; may mean already closed)',
    "refusal 49999 (a code we do not know)",
  ]);
  it.each(Object.entries(failures))("%s", (name, error) => {
    expect(needsConfirmingQuery(error)).toBe(settledByQuery.has(name));
  });

  it.each([40000, 40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008, 40010])(
    "definitive refusal %i skips the query, as a number and as a string",
    (code) => {
      expect(needsConfirmingQuery(refusal(code))).toBe(false);
      expect(needsConfirmingQuery(refusal(String(code)))).toBe(false);
    },
  );
});

describe("backoff: full jitter, random(0, min(2 s, 100 ms · 2^(n-1)))", () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1600],
    [6, 2000],
    [10, 2000],
  ])("retry %i waits at most %i ms", (retry, bound) => {
    expect(backoffDelayMs(retry, () => 0)).toBe(0);
    expect(backoffDelayMs(retry, () => 0.999_999)).toBe(bound - 1);
    expect(backoffDelayMs(retry, () => 0.5)).toBe(bound / 2);
    expect(bound).toBeLessThanOrEqual(RETRY_MAX_DELAY_MS);
    expect(bound).toBe(Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** (retry - 1)));
  });
});

describe("retry decision under the deadline", () => {
  const now = 1_000_000;
  const base = { error: failures["HTTP 503"], attempt: 1, maxRetries: 2, nowMs: now, deadlineMs: now + 10_000 };
  const half = (): number => 0.5;
  const almostOne = (): number => 0.999_999;
  const zero = (): number => 0;
  it.each<[string, Partial<typeof base>, () => number, number | undefined]>([
    ["a retryable failure with retries and time left", {}, half, 50],
    ["a failure that is not safe to repeat", { error: failures["refusal 40008 (unknown merchant)"] }, half, undefined],
    ["the last allowed retry", { attempt: 2 }, half, 100],
    ["retries used up", { attempt: 3 }, half, undefined],
    ["no retries configured", { maxRetries: 0 }, half, undefined],
    ["a wait that leaves exactly MIN_ATTEMPT_MS", { deadlineMs: now + 99 + MIN_ATTEMPT_MS }, almostOne, 99],
    [
      "a wait that would leave less than MIN_ATTEMPT_MS",
      { deadlineMs: now + 98 + MIN_ATTEMPT_MS },
      almostOne,
      undefined,
    ],
    ["the deadline already passed", { deadlineMs: now - 1 }, zero, undefined],
  ])("%s", (_name, overrides, random, expected) => {
    expect(retryDelayMs({ ...base, ...overrides, random })).toBe(expected);
  });
});

describe("attempt timeout and time left", () => {
  it.each([
    ["plenty of time: the configured timeout", 5000, 20_000, 5000],
    ["less left than the timeout: what is left", 5000, 1200, 1200],
    ["almost nothing left: at least MIN_ATTEMPT_MS", 5000, 10, MIN_ATTEMPT_MS],
  ])("%s", (_name, timeout, left, expected) => {
    expect(attemptTimeoutMs(timeout, 0, left)).toBe(expected);
  });

  it.each([
    [MIN_ATTEMPT_MS, true],
    [MIN_ATTEMPT_MS - 1, false],
    [0, false],
  ])("with %i ms left another attempt fits: %s", (left, fits) => {
    expect(hasTimeForAttempt(1000, 1000 + left)).toBe(fits);
  });
});

describe("next merchant key (rotation)", () => {
  it.each([
    ["40000 with a next key: try it", 0, 2, refusal(40000), 1],
    ['"40000" as a string: try it', 0, 2, refusal("40000"), 1],
    ["40000 with one key only: nothing to try", 0, 1, refusal(40000), undefined],
    ["40000 on the second key: back to the first (SparkPay rolled back)", 1, 2, refusal(40000), 0],
    ["another refusal: the key is not the problem", 0, 2, refusal(40008), undefined],
    ["a network failure: the key is not the problem", 0, 2, failures.timeout, undefined],
  ])("%s", (_name, key, keyCount, error, expected) => {
    expect(fallbackKey(key, keyCount, error)).toBe(expected);
  });

  it.each([
    ["a success", undefined, true],
    ["a refusal for another reason", refusal(40009), true],
    ["a signature rejection", refusal(40000), false],
    ["no answer at all", failures["connection error"], false],
    ["an answer we could not believe", failures["bad signature"], false],
  ])("SparkPay accepted the key's signature after %s: %s", (_name, outcome, accepted) => {
    expect(signatureAccepted(outcome)).toBe(accepted);
  });
});

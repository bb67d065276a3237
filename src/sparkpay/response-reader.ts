import * as v from "valibot";
import { MAX_RETRY_AFTER_S, RATE_LIMITED_CODE } from "./constants";
import { SparkPayApiError, SparkPayInvalidResponseError, SparkPayRateLimitError, SparkPayServerError } from "./errors";
import type { RawResponse } from "./raw-response";
import { SparkPayErrorEnvelopeSchema } from "./schemas";
import type { ResponseValidator } from "./validator";

const decoder = new TextDecoder();

/**
 * Reads one raw SparkPay answer: a 2xx is validated (signature over the bytes as received, then
 * timestamp), parsed and checked against `schema`; every other answer becomes the typed error it is.
 */
export async function readResponse<T extends v.GenericSchema>(
  response: RawResponse,
  schema: T,
  validator: ResponseValidator,
  nowMs: number,
): Promise<v.InferOutput<T>> {
  const { status, headers, bytes, attempt } = response;
  if (status >= 500) throw new SparkPayServerError(status, attempt);
  const ok = status >= 200 && status < 300;
  if (ok) await validator.validate(response, nowMs);
  const json = parseJson(decoder.decode(bytes));
  if (ok) {
    const success = v.safeParse(schema, json);
    if (success.success) return success.output;
  }
  const parsed = v.safeParse(SparkPayErrorEnvelopeSchema, json);
  const refusal = parsed.success ? parsed.output : undefined;
  if (status === 429 || String(refusal?.code) === RATE_LIMITED_CODE) {
    const retryAfter = retryAfterSeconds(headers.get("Retry-After"), nowMs);
    throw new SparkPayRateLimitError(status, refusal?.code, refusal?.message, retryAfter, attempt);
  }
  // A refusal inside a 2xx is still a refusal; report it as the client error it is.
  if (refusal && String(refusal.code) !== "0") {
    throw new SparkPayApiError(Math.max(status, 400), refusal.code, refusal.message, attempt);
  }
  throw new SparkPayInvalidResponseError(
    json === undefined
      ? `SparkPay answered HTTP ${status} with a body that is not JSON.`
      : `SparkPay answered HTTP ${status} with JSON of an unexpected shape.`,
    attempt,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Retry-After as whole seconds, capped at MAX_RETRY_AFTER_S: delta-seconds or an HTTP date;
 * undefined when absent or unreadable.
 */
export function retryAfterSeconds(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  const seconds = /^\d+$/.test(text) ? Number(text) : Math.ceil((Date.parse(text) - nowMs) / 1000);
  return Number.isNaN(seconds) ? undefined : Math.min(MAX_RETRY_AFTER_S, Math.max(0, seconds));
}

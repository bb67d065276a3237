import * as v from "valibot";
import {
  CLOSE_ORDER_PATH,
  DEFAULT_BASE_URL,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  DEFINITIVE_REFUSAL_CODES,
  HEADER_APP_ID,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  MIN_ATTEMPT_MS,
  PAY_STATUS_CLOSED,
  QUERY_ORDER_PATH_PREFIX,
  RATE_LIMITED_CODE,
  RESPONSE_REQUEST_ID_HEADERS,
  RETRY_BASE_DELAY_MS,
  RETRY_MAX_DELAY_MS,
  SIGNATURE_REJECTED_CODE,
} from "./constants";
import {
  isRetryable,
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayError,
  SparkPayInvalidResponseError,
  SparkPayRateLimitError,
  SparkPayServerError,
  SparkPayTimeoutError,
} from "./errors";

const decoder = new TextDecoder();

import { createNonce } from "./nonce";
import {
  type CloseOrderRequest,
  type CloseOrderResponse,
  CloseOrderResponseSchema,
  type QueryOrderResponse,
  QueryOrderResponseSchema,
  SparkPayErrorEnvelopeSchema,
} from "./schemas";
import type { Signer } from "./signer";
import { validateResponseSignature } from "./validator";
import type { Verifier } from "./verifier";

export interface SparkPayClientOptions {
  appId: string;
  signer: Signer;
  /** Checks response signatures; undefined turns verification off (see SPARKPAY_VERIFY_RESPONSES). */
  verifier: Verifier | undefined;
  userAgent: string;
  baseUrl?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt, for network errors, timeouts and 500/502/503/504 only. */
  maxRetries?: number;
  /** Over every attempt, backoff and the confirming query. */
  deadlineMs?: number;
  /** Injected so tests and other runtimes control the network, the clock, randomness and waiting. */
  fetch?: typeof fetch;
  now?: () => number;
  nonce?: () => string;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestContext {
  /** Sent as X-Request-Id so SparkPay support and the sandbox can correlate. */
  requestId?: string;
  /** Called after every request sent to SparkPay, for logs and metrics. */
  onAttempt?: (report: AttemptReport) => void;
}

/** One request to SparkPay, as observed by the client. Holds nothing secret. */
export interface AttemptReport {
  operation: "close" | "query";
  /** 1 for the first attempt of this operation. */
  attempt: number;
  durationMs: number;
  /** SparkPay's HTTP status, when it answered. */
  status?: number;
  /** The failure's class name, when there was no answer (e.g. SparkPayTimeoutError). */
  error?: string;
  /** SparkPay's own request id, when its answer carried one. */
  sparkpayRequestId?: string;
  /** Which merchant key signed: 1 (current) or 2 (next, during a rotation). */
  key: number;
}

interface Exchange {
  deadline: number;
  operation: AttemptReport["operation"];
  method: "GET" | "POST";
  path: string;
  body: string;
  context: RequestContext;
  timeoutMs: number;
  attempt: number;
}

export interface CloseOrderResult {
  envelope: CloseOrderResponse;
  /** Close requests sent (each re-signed with a fresh timestamp and nonce). */
  attempts: number;
  /**
   * True when the close itself failed ambiguously (timeout, reset, 5xx) or was refused, and
   * Payment Order Query then showed the order CLOSED.
   */
  confirmedByQuery: boolean;
}

interface RawResponse {
  status: number;
  headers: Headers;
  /** The body exactly as it arrived, for signature verification. */
  bytes: Uint8Array;
  /** The body decoded as UTF-8, for JSON. */
  text: string;
}

export class SparkPayClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly deadlineMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly nonce: () => string;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** The merchant key SparkPay accepts; moves to the next key once SparkPay has switched to it. */
  private signingKey = 0;

  constructor(private readonly options: SparkPayClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    // Bound so an injected global fetch keeps its `this` in workerd.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.nonce = options.nonce ?? createNonce;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Closes a payment order. Resolves only with a verified, validated success for this very order:
   * SparkPay's own answer, or, when that answer was lost or was a refusal, a Payment Order Query
   * showing the order CLOSED.
   */
  async closeOrder(order: CloseOrderRequest, context: RequestContext = {}): Promise<CloseOrderResult> {
    const deadline = this.now() + this.deadlineMs;
    // Built once: these exact bytes are signed and sent, on every attempt.
    const body = JSON.stringify({ request_no: order.request_no, merchant_no: order.merchant_no });
    try {
      const { value: envelope, attempts } = await this.withRetries(deadline, async (timeoutMs, attempt) => {
        const envelope = await this.exchange(
          { deadline, operation: "close", method: "POST", path: CLOSE_ORDER_PATH, body, context, timeoutMs, attempt },
          CloseOrderResponseSchema,
        );
        requireSameOrder(order, envelope.data);
        return envelope;
      });
      return { envelope, attempts, confirmedByQuery: false };
    } catch (error) {
      // Failures after which the order may be closed (a lost answer, any 5xx, a refusal such as
      // "already closed") are settled by asking SparkPay; definitive refusals are not.
      const unsettled =
        error instanceof SparkPayConnectionError ||
        error instanceof SparkPayTimeoutError ||
        error instanceof SparkPayServerError ||
        (error instanceof SparkPayApiError && !DEFINITIVE_REFUSAL_CODES.has(String(error.code)));
      if (!unsettled) throw error;
      const closed = await this.confirmClosed(order, context, deadline);
      if (!closed) throw error;
      const { request_no, merchant_no, merchant_order_no } = closed;
      return {
        envelope: { code: 0, message: "success", data: { request_no, merchant_no, merchant_order_no } },
        attempts: (error as SparkPayError).attempts,
        confirmedByQuery: true,
      };
    }
  }

  /** Payment Order Query (`GET /v4/pay/orders/{merchant_no}/{request_no}`), retried like any safe read. */
  async queryOrder(
    order: CloseOrderRequest,
    context: RequestContext = {},
    deadline = this.now() + this.deadlineMs,
  ): Promise<QueryOrderResponse> {
    const path = `${QUERY_ORDER_PATH_PREFIX}${encodeURIComponent(order.merchant_no)}/${encodeURIComponent(order.request_no)}`;
    const { value } = await this.withRetries(deadline, async (timeoutMs, attempt) => {
      const envelope = await this.exchange(
        { deadline, operation: "query", method: "GET", path, body: "", context, timeoutMs, attempt },
        QueryOrderResponseSchema,
      );
      requireSameOrder(order, envelope.data);
      return envelope;
    });
    return value;
  }

  private async confirmClosed(order: CloseOrderRequest, context: RequestContext, deadline: number) {
    if (deadline - this.now() < MIN_ATTEMPT_MS) return undefined;
    try {
      const { data } = await this.queryOrder(order, context, deadline);
      return data.pay_status === PAY_STATUS_CLOSED ? data : undefined;
    } catch {
      return undefined; // the close's own error is the one worth reporting
    }
  }

  /** One attempt's timeout: SPARKPAY_TIMEOUT_MS, or what is left of the deadline if less. */
  private attemptTimeout(deadline: number): number {
    return Math.max(MIN_ATTEMPT_MS, Math.min(this.timeoutMs, deadline - this.now()));
  }

  /**
   * Runs `attempt` until it succeeds, fails in a way that is not safe to repeat, runs out of
   * retries, or would overrun the deadline; backs off with full jitter in between. The error
   * thrown is the last real one, with the number of attempts on it.
   */
  private async withRetries<T>(
    deadline: number,
    attempt: (timeoutMs: number, attempt: number) => Promise<T>,
  ): Promise<{ value: T; attempts: number }> {
    for (let attempts = 1; ; attempts++) {
      try {
        return { value: await attempt(this.attemptTimeout(deadline), attempts), attempts };
      } catch (error) {
        if (error instanceof SparkPayError) error.attempts = attempts;
        if (!isRetryable(error) || attempts > this.maxRetries) throw error;
        const delay = Math.floor(
          this.random() * Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** (attempts - 1)),
        );
        if (this.now() + delay + MIN_ATTEMPT_MS > deadline) throw error;
        await this.sleep(delay);
      }
    }
  }

  /**
   * One attempt: send, then verify and validate. When SparkPay rejects the signature (40000) and a
   * next merchant key is configured, SparkPay may have switched keys: re-sign with the next key
   * (safe: a rejected signature means SparkPay did nothing), within the deadline. Once SparkPay
   * accepts the next key's signature, keep using it.
   */
  private async exchange<T extends v.GenericSchema>(request: Exchange, schema: T): Promise<v.InferOutput<T>> {
    const key = this.signingKey;
    try {
      return await this.readSuccess(await this.send(request, key, request.timeoutMs), schema);
    } catch (error) {
      const next = key + 1;
      if (
        next >= this.options.signer.keyCount ||
        !isSignatureRejection(error) ||
        request.deadline - this.now() < MIN_ATTEMPT_MS
      )
        throw error;
      try {
        const result = await this.readSuccess(
          await this.send(request, next, this.attemptTimeout(request.deadline)),
          schema,
        );
        this.signingKey = next;
        return result;
      } catch (nextError) {
        if (nextError instanceof SparkPayApiError && !isSignatureRejection(nextError)) this.signingKey = next;
        throw nextError;
      }
    }
  }

  /** One signed request. Every request gets a fresh timestamp and nonce. */
  private async send(request: Exchange, key: number, timeoutMs: number): Promise<RawResponse> {
    const { operation, method, path, body, context, attempt } = request;
    const timestamp = Math.floor(this.now() / 1000).toString();
    const nonce = this.nonce();
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": this.options.userAgent,
      [HEADER_APP_ID]: this.options.appId,
      [HEADER_TIMESTAMP]: timestamp,
      [HEADER_NONCE]: nonce,
      [HEADER_SIGNATURE]: await this.options.signer.sign(timestamp, nonce, body, key),
    };
    if (method === "POST") headers["Content-Type"] = "application/json";
    if (context.requestId) headers["X-Request-Id"] = context.requestId;
    const started = this.now();
    const report = (outcome: Partial<AttemptReport>) =>
      context.onAttempt?.({ operation, attempt, key: key + 1, durationMs: this.now() - started, ...outcome });
    try {
      const response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: method === "POST" ? body : undefined,
        // A redirect would replay the signed request to a URL the gateway never chose.
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      const sparkpayRequestId =
        RESPONSE_REQUEST_ID_HEADERS.map((name) => response.headers.get(name)).find(Boolean) ?? undefined;
      report({ status: response.status, sparkpayRequestId });
      return { status: response.status, headers: response.headers, bytes, text: decoder.decode(bytes) };
    } catch (error) {
      const failure =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")
          ? new SparkPayTimeoutError(timeoutMs)
          : new SparkPayConnectionError(
              `SparkPay could not be reached: ${error instanceof Error ? error.message : String(error)}`,
            );
      report({ error: failure.name });
      throw failure;
    }
  }

  /** Verifies, parses and validates a 2xx answer; turns every other answer into a typed error. */
  private async readSuccess<T extends v.GenericSchema>(response: RawResponse, schema: T): Promise<v.InferOutput<T>> {
    const { status, headers, bytes, text } = response;
    if (status >= 500) throw new SparkPayServerError(status);
    const ok = status >= 200 && status < 300;
    if (ok && this.options.verifier) await validateResponseSignature(this.options.verifier, headers, bytes, this.now());
    const json = parseJson(text);
    if (ok) {
      const success = v.safeParse(schema, json);
      if (success.success) return success.output;
    }
    const parsed = v.safeParse(SparkPayErrorEnvelopeSchema, json);
    const refusal = parsed.success ? parsed.output : undefined;
    if (status === 429 || String(refusal?.code) === RATE_LIMITED_CODE) {
      throw new SparkPayRateLimitError(
        status,
        refusal?.code,
        refusal?.message,
        retryAfterSeconds(headers.get("Retry-After"), this.now()),
      );
    }
    // A refusal inside a 2xx is still a refusal; report it as the client error it is.
    if (refusal && String(refusal.code) !== "0") {
      throw new SparkPayApiError(Math.max(status, 400), refusal.code, refusal.message);
    }
    throw new SparkPayInvalidResponseError(
      json === undefined
        ? `SparkPay answered HTTP ${status} with a body that is not JSON.`
        : `SparkPay answered HTTP ${status} with JSON of an unexpected shape.`,
    );
  }
}

function isSignatureRejection(error: unknown): boolean {
  return error instanceof SparkPayApiError && String(error.code) === SIGNATURE_REJECTED_CODE;
}

/** SparkPay treats request_no case-insensitively, so an answer may carry the casing it stored first. */
function requireSameOrder(order: CloseOrderRequest, data: { request_no: string; merchant_no: string }): void {
  if (data.request_no.toLowerCase() !== order.request_no.toLowerCase() || data.merchant_no !== order.merchant_no) {
    throw new SparkPayInvalidResponseError("SparkPay's answer is for a different order than the one requested.");
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After as whole seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,7}$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

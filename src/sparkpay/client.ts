import type * as v from "valibot";
import {
  CLOSE_ORDER_PATH,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  PAY_STATUS_CLOSED,
  QUERY_ORDER_PATH_PREFIX,
} from "./constants";
import { SparkPayError, SparkPayInvalidResponseError, SparkPayNotClosedError } from "./errors";
import { foldAscii } from "./identifiers";
import { readResponse } from "./response-reader";
import {
  attemptTimeoutMs,
  fallbackKey,
  hasTimeForAttempt,
  needsConfirmingQuery,
  retryDelayMs,
  signatureAccepted,
} from "./retry-policy";
import {
  type CloseOrderRequest,
  type CloseOrderResponse,
  CloseOrderResponseSchema,
  type OrderRef,
  type QueryOrderResponse,
  QueryOrderResponseSchema,
} from "./schemas";
import { type RequestContext, type SparkPayRequest, SparkPayTransport, type TransportOptions } from "./transport";
import type { ResponseValidator } from "./validator";

export type { AttemptReport, RequestContext } from "./transport";

export interface SparkPayClientOptions extends TransportOptions {
  /** Checks response signatures; ACCEPT_UNVERIFIED turns verification off (SPARKPAY_VERIFY_RESPONSES). */
  validator: ResponseValidator;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt, for network errors, timeouts and 500/502/503/504 only. */
  maxRetries?: number;
  /** Over every attempt, backoff and the confirming query. */
  deadlineMs?: number;
  /** Injected so tests control randomness and waiting (the clock, fetch and nonces go to the transport). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
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
  /** SparkPay's own request id of the last answer (the close's, or the confirming query's). */
  sparkpayRequestId: string | undefined;
}

export interface QueryOrderResult {
  envelope: QueryOrderResponse;
  sparkpayRequestId: string | undefined;
}

/** What an operation learnt on the way, whatever its outcome: SparkPay's id of its last answer. */
interface Trace {
  sparkpayRequestId?: string;
}

/** A success envelope naming an order: what both close and query answer with. */
type OrderEnvelopeSchema = v.GenericSchema<unknown, { data: { request_no: string; merchant_no: string } }>;

/** One operation in flight: the request, its deadline, its caller's context and what it has learnt so far. */
interface Operation {
  request: SparkPayRequest;
  deadline: number;
  context: RequestContext;
  trace: Trace;
}

/** Runs `operation`; a SparkPayError leaves carrying the last answer's id (see SparkPayError.sparkpayRequestId). */
async function traced<T>(trace: Trace, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof SparkPayError) error.sparkpayRequestId = trace.sparkpayRequestId;
    throw error;
  }
}

/**
 * The request policy: retries with backoff under one deadline, the next-merchant-key fallback and
 * close-and-confirm. The wire is SparkPayTransport's; judging an answer is readResponse's.
 */
export class SparkPayClient {
  private readonly transport: SparkPayTransport;
  private readonly validator: ResponseValidator;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly keyCount: number;
  /** The merchant key to sign with: the one SparkPay last accepted (the first until then). */
  private signingKey = 0;
  private lastAcceptedKey: number | undefined;

  constructor(options: SparkPayClientOptions) {
    this.transport = new SparkPayTransport(options);
    this.validator = options.validator;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.keyCount = options.signer.keyCount;
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
    const request: SparkPayRequest = { operation: "close", method: "POST", path: CLOSE_ORDER_PATH, body };
    const trace: Trace = {};
    return traced(trace, async () => {
      try {
        const { value: envelope, attempts } = await this.withRetries(
          { request, deadline, context, trace },
          CloseOrderResponseSchema,
          (data, attempt) => {
            requireSameOrder(order, data, attempt);
            requireNotContradictingClosed(data, attempt);
          },
        );
        return { envelope, attempts, confirmedByQuery: false, sparkpayRequestId: trace.sparkpayRequestId };
      } catch (error) {
        if (!(error instanceof SparkPayError) || !needsConfirmingQuery(error)) throw error;
        const closed = await this.confirmClosed(order, context, deadline, trace);
        if (!closed) throw error;
        const { request_no, merchant_no, merchant_order_no } = closed;
        return {
          envelope: { code: 0, message: "success", data: { request_no, merchant_no, merchant_order_no } },
          attempts: error.attempts,
          confirmedByQuery: true,
          sparkpayRequestId: trace.sparkpayRequestId,
        };
      }
    });
  }

  /** Payment Order Query (`GET /v4/pay/orders/{merchant_no}/{request_no}`), retried like any safe read. */
  async queryOrder(order: OrderRef, context: RequestContext = {}): Promise<QueryOrderResult> {
    const trace: Trace = {};
    return traced(trace, async () => {
      const envelope = await this.query(order, context, this.now() + this.deadlineMs, trace);
      return { envelope, sparkpayRequestId: trace.sparkpayRequestId };
    });
  }

  private async query(order: OrderRef, context: RequestContext, deadline: number, trace: Trace) {
    const { merchant_no, request_no } = order;
    const path = `${QUERY_ORDER_PATH_PREFIX}${encodeURIComponent(merchant_no)}/${encodeURIComponent(request_no)}`;
    const request: SparkPayRequest = { operation: "query", method: "GET", path, body: "" };
    const sameOrder = (data: OrderRef, attempt: number) => requireSameOrder(order, data, attempt);
    return (await this.withRetries({ request, deadline, context, trace }, QueryOrderResponseSchema, sameOrder)).value;
  }

  private async confirmClosed(order: OrderRef, context: RequestContext, deadline: number, trace: Trace) {
    if (!hasTimeForAttempt(this.now(), deadline)) return undefined;
    try {
      const { data } = await this.query(order, context, deadline, trace);
      return data.pay_status === PAY_STATUS_CLOSED ? data : undefined;
    } catch {
      return undefined; // the close's own error is the one worth reporting
    }
  }

  /**
   * Runs the operation until it succeeds, fails in a way that is not safe to repeat, runs out of
   * retries, or would overrun the deadline; backs off with full jitter in between. The error
   * thrown is the last real one, made by the attempt it ended on.
   */
  private async withRetries<T extends OrderEnvelopeSchema>(
    operation: Operation,
    schema: T,
    /** Throws when a valid answer still does not mean success for this operation. */
    accept: (data: v.InferOutput<T>["data"], attempt: number) => void,
  ): Promise<{ value: v.InferOutput<T>; attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await this.attempt(operation, attempt, schema);
        accept(value.data, attempt);
        return { value, attempts: attempt };
      } catch (error) {
        const { maxRetries, random } = this;
        const delay = retryDelayMs({
          error,
          attempt,
          maxRetries,
          nowMs: this.now(),
          deadlineMs: operation.deadline,
          random,
        });
        if (delay === undefined) throw error;
        await this.sleep(delay);
      }
    }
  }

  /**
   * One attempt: send, then read. When SparkPay rejects the signature (40000) and another merchant
   * key is configured, SparkPay may have switched keys (forwards in a rotation, or back): re-sign
   * with the other key (safe: a rejected signature means SparkPay did nothing), within the
   * deadline. Whichever key SparkPay accepts is the one used from then on; a rejected key is never
   * kept.
   */
  private async attempt<T extends v.GenericSchema>(
    { request, deadline, context, trace }: Operation,
    attempt: number,
    schema: T,
  ): Promise<v.InferOutput<T>> {
    const exchange = async (key: number) => {
      const timeoutMs = attemptTimeoutMs(this.timeoutMs, this.now(), deadline);
      const response = await this.transport.send(request, { attempt, key, timeoutMs, context });
      trace.sparkpayRequestId = response.sparkpayRequestId ?? trace.sparkpayRequestId;
      try {
        const value = await readResponse(response, schema, this.validator, this.now());
        this.keyAccepted(key);
        return value;
      } catch (error) {
        if (signatureAccepted(error)) this.keyAccepted(key);
        throw error;
      }
    };
    try {
      return await exchange(this.signingKey);
    } catch (error) {
      const other = fallbackKey(this.signingKey, this.keyCount, error);
      if (other === undefined || !hasTimeForAttempt(this.now(), deadline)) throw error;
      return await exchange(other);
    }
  }

  private keyAccepted(key: number): void {
    this.signingKey = key;
    this.lastAcceptedKey = key;
  }

  /** Which merchant key (1-based) SparkPay last accepted a signature from; undefined until it has. */
  get acceptedKey(): number | undefined {
    return this.lastAcceptedKey === undefined ? undefined : this.lastAcceptedKey + 1;
  }
}

/**
 * SparkPay treats request_no case-insensitively, so an answer may carry the casing it stored first;
 * only ASCII case folding, so a look-alike (the Kelvin sign for k) is a different order.
 */
function requireSameOrder(order: CloseOrderRequest, data: OrderRef, attempt: number): void {
  const sameRequest = foldAscii(data.request_no) === foldAscii(order.request_no);
  if (!sameRequest || data.merchant_no !== order.merchant_no) {
    throw new SparkPayInvalidResponseError(
      "SparkPay's answer is for a different order than the one requested.",
      attempt,
    );
  }
}

/** A close "success" must not say the order is anything but closed (a replayed query answer would). */
function requireNotContradictingClosed(data: Record<string, unknown>, attempt: number): void {
  if ("pay_status" in data && data.pay_status !== PAY_STATUS_CLOSED) {
    const status = typeof data.pay_status === "string" ? data.pay_status.slice(0, 32) : typeof data.pay_status;
    throw new SparkPayNotClosedError(`SparkPay's close answer says pay_status ${status}, not CLOSED.`, attempt);
  }
}

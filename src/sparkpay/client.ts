import { CLOSE_ORDER_PATH, DEFAULT_DEADLINE_MS, PAY_STATUS_CLOSED, QUERY_ORDER_PATH_PREFIX } from "./constants";
import { SparkPayError, SparkPayInvalidResponseError, SparkPayNotClosedError } from "./errors";
import { type ExchangeOptions, SparkPayExchange, type Trace, traced } from "./exchange";
import { foldAscii } from "./identifiers";
import { hasTimeForAttempt, needsConfirmingQuery } from "./retry-policy";
import {
  type CloseOrderRequest,
  type CloseOrderResponse,
  CloseOrderResponseSchema,
  type OrderRef,
  type QueryOrderResponse,
  QueryOrderResponseSchema,
} from "./schemas";
import type { RequestContext, SparkPayRequest } from "./transport";

export type { AttemptReport, RequestContext } from "./transport";

export interface SparkPayClientOptions extends ExchangeOptions {
  /** Over every attempt, backoff and the confirming query. */
  deadlineMs?: number;
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

/**
 * SparkPay's order operations: close (with close-and-confirm) and query, each under one deadline, each answer
 * checked to be for the order asked about. How a request is exchanged (retries, key fallback) is SparkPayExchange's.
 */
export class SparkPayClient {
  private readonly exchange: SparkPayExchange;
  private readonly deadlineMs: number;
  private readonly now: () => number;

  constructor(options: SparkPayClientOptions) {
    this.exchange = new SparkPayExchange(options);
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.now = this.exchange.now;
  }

  /** Which merchant key (1-based) SparkPay last accepted a signature from; undefined until it has. */
  get acceptedKey(): number | undefined {
    return this.exchange.acceptedKey;
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
        const { value: envelope, attempts } = await this.exchange.withRetries(
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
    return (await this.exchange.withRetries({ request, deadline, context, trace }, QueryOrderResponseSchema, sameOrder))
      .value;
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

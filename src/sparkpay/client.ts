import {
  CLOSE_ORDER_PATH,
  type ConfirmMode,
  DEFAULT_DEADLINE_MS,
  PAY_STATUS_CLOSED,
  QUERY_ORDER_PATH_PREFIX,
} from "./constants";
import {
  SparkPayApiError,
  SparkPayError,
  SparkPayInvalidResponseError,
  SparkPayNotClosedError,
  SparkPayOrderNotClosableError,
} from "./errors";
import { type ExchangeOptions, SparkPayExchange, type Trace, traced } from "./exchange";
import { foldAscii } from "./identifiers";
import { hasTimeForAttempt, needsConfirmingQuery } from "./retry-policy";
import {
  type CloseOrderRequest,
  type CloseOrderResponse,
  CloseOrderResponseSchema,
  type OrderRef,
  type OrderState,
  orderStateOf,
  type QueryOrderResponse,
  QueryOrderResponseSchema,
} from "./schemas";
import type { RequestContext, SparkPayRequest } from "./transport";

export type { AttemptReport, RequestContext } from "./transport";

export interface SparkPayClientOptions extends ExchangeOptions {
  /** Over every attempt, backoff and the confirming query. */
  deadlineMs?: number;
  /** The default for closeOrder's `confirm`; `ambiguous` unless set. */
  confirmCloses?: ConfirmMode;
}

/**
 * What settled a close: SparkPay's close answer alone (`close`), that answer and a query showing CLOSED
 * (`close-and-query`), or, when the close's answer was lost or was a refusal, a query showing CLOSED (`order-query`).
 */
export type CloseConfirmation = "close" | "close-and-query" | "order-query";

export interface CloseOrderResult {
  envelope: CloseOrderResponse;
  /** Close requests sent (each re-signed with a fresh timestamp and nonce). */
  attempts: number;
  confirmedBy: CloseConfirmation;
  /** The verified query's data, whenever a query was made and answered (its pay_status is then CLOSED). */
  order: OrderState | undefined;
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
  private readonly confirmCloses: ConfirmMode;
  private readonly now: () => number;

  constructor(options: SparkPayClientOptions) {
    this.exchange = new SparkPayExchange(options);
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.confirmCloses = options.confirmCloses ?? "ambiguous";
    this.now = this.exchange.now;
  }

  /** Which merchant key (1-based) SparkPay last accepted a signature from; undefined until it has. */
  get acceptedKey(): number | undefined {
    return this.exchange.acceptedKey;
  }

  /**
   * Closes a payment order. Resolves only when SparkPay shows it closed: a verified, validated close success for this
   * very order (followed, with `confirm: "always"`, by a query that does not contradict it), or, when the close's
   * answer was lost or was a refusal, a Payment Order Query showing CLOSED. Whenever a verified query shows any other
   * pay_status after SparkPay answered the close, throws SparkPayOrderNotClosableError with the order; after a close
   * that got no answer at all, the close's own error, with the order attached.
   */
  async closeOrder(
    order: CloseOrderRequest,
    context: RequestContext = {},
    { confirm = this.confirmCloses }: { confirm?: ConfirmMode } = {},
  ): Promise<CloseOrderResult> {
    const deadline = this.now() + this.deadlineMs;
    // Built once: these exact bytes are signed and sent, on every attempt.
    const body = JSON.stringify({ request_no: order.request_no, merchant_no: order.merchant_no });
    const request: SparkPayRequest = { operation: "close", method: "POST", path: CLOSE_ORDER_PATH, body };
    const trace: Trace = {};
    return traced(trace, async () => {
      let closed: { value: CloseOrderResponse; attempts: number };
      try {
        closed = await this.exchange.withRetries(
          { request, deadline, context, trace },
          CloseOrderResponseSchema,
          (data, attempt) => {
            requireSameOrder(order, data, attempt);
            requireNotContradictingClosed(data, attempt);
          },
        );
      } catch (error) {
        if (!(error instanceof SparkPayError) || !needsConfirmingQuery(error)) throw error;
        const shown = await this.confirmingQuery(order, context, deadline, trace);
        if (!shown) throw error;
        if (shown.pay_status !== PAY_STATUS_CLOSED) throw notClosed(error, shown);
        const { request_no, merchant_no, merchant_order_no } = shown;
        return {
          envelope: { code: 0, message: "success", data: { request_no, merchant_no, merchant_order_no } },
          attempts: error.attempts,
          confirmedBy: "order-query",
          order: orderStateOf(shown),
          sparkpayRequestId: trace.sparkpayRequestId,
        };
      }
      const { value: envelope, attempts } = closed;
      const shown = confirm === "always" ? await this.confirmingQuery(order, context, deadline, trace) : undefined;
      if (shown && shown.pay_status !== PAY_STATUS_CLOSED) {
        throw new SparkPayOrderNotClosableError(orderStateOf(shown), undefined, attempts);
      }
      const confirmedBy = shown ? "close-and-query" : "close";
      const state = shown && orderStateOf(shown);
      return { envelope, attempts, confirmedBy, order: state, sparkpayRequestId: trace.sparkpayRequestId };
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

  /** The order as a verified query shows it, or undefined when there is no time left or the query failed too. */
  private async confirmingQuery(
    order: OrderRef,
    context: RequestContext,
    deadline: number,
    trace: Trace,
  ): Promise<QueryOrderResponse["data"] | undefined> {
    if (!hasTimeForAttempt(this.now(), deadline)) return undefined;
    try {
      return (await this.query(order, context, deadline, trace)).data;
    } catch {
      return undefined; // the close's own error (or its success) is the one worth reporting
    }
  }
}

/**
 * What a failed close means once a verified query shows the order not CLOSED. SparkPay answered the close (a refusal,
 * or a "success" that does not say closed): the order is not closable, and the query says what it is. No answer at all
 * (lost, 5xx, timeouts on every attempt): the close may never have reached SparkPay, so the close's own error stands,
 * carrying the order as the query showed it.
 */
function notClosed(error: SparkPayError, data: QueryOrderResponse["data"]): SparkPayError {
  const shown = orderStateOf(data);
  if (error instanceof SparkPayApiError) return new SparkPayOrderNotClosableError(shown, error, error.attempts);
  if (error instanceof SparkPayNotClosedError)
    return new SparkPayOrderNotClosableError(shown, undefined, error.attempts);
  error.order = shown;
  return error;
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

import { requireNotContradictingClosed, requireSameOrder } from "./answer-checks";
import {
  CLOSE_ORDER_PATH,
  type ConfirmMode,
  DEFAULT_DEADLINE_MS,
  EDITIONS,
  type Edition,
  PAY_STATUS_CLOSED,
} from "./constants";
import { type CreationParts, createOrder, isNoSuchOrder } from "./create-order";
import { SparkPayApiError, SparkPayError, SparkPayNotClosedError, SparkPayOrderNotClosableError } from "./errors";
import { type ExchangeOptions, SparkPayExchange, type Trace, traced } from "./exchange";
import { type CreateOrderResponse, QueryProOrderResponseSchema } from "./order-schemas";
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

export interface CreateOrderResult {
  envelope: CreateOrderResponse;
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

  /**
   * Payment Order Query (`GET /v4/pay/orders/{merchant_no}/{request_no}`, or the Pro edition's
   * `/v4/pro/pay/orders/…`), retried like any safe read.
   */
  async queryOrder(
    order: OrderRef,
    context: RequestContext = {},
    edition: Edition = "standard",
  ): Promise<QueryOrderResult> {
    const trace: Trace = {};
    return traced(trace, async () => {
      const envelope = await this.query(order, context, this.now() + this.deadlineMs, trace, edition);
      return { envelope, sparkpayRequestId: trace.sparkpayRequestId };
    });
  }

  /**
   * Payment Order Creation (standard or Pro), `body` signed and sent exactly as given, once: see create-order.ts for
   * what a failure means.
   */
  async createOrder(
    edition: Edition,
    order: OrderRef,
    body: string,
    context: RequestContext = {},
  ): Promise<CreateOrderResult> {
    const trace: Trace = {};
    const parts: CreationParts = {
      exchange: this.exchange,
      find: (order, edition, context, deadline, trace) => this.find(order, context, deadline, trace, edition),
      requireSameOrder,
    };
    return traced(trace, async () => {
      const envelope = await createOrder(parts, edition, order, body, context, this.now() + this.deadlineMs, trace);
      return { envelope, sparkpayRequestId: trace.sparkpayRequestId };
    });
  }

  /**
   * The order as a verified query shows it, or null when SparkPay refuses it as no such order (a GUESS: see
   * NO_SUCH_ORDER_CODES); any other failure is thrown.
   */
  async findOrder(order: OrderRef, context: RequestContext = {}, edition: Edition = "standard") {
    const trace: Trace = {};
    return traced(trace, () => this.find(order, context, this.now() + this.deadlineMs, trace, edition));
  }

  private async find(
    order: OrderRef,
    context: RequestContext,
    deadline: number,
    trace: Trace,
    edition: Edition,
  ): Promise<OrderState | null> {
    try {
      return orderStateOf((await this.query(order, context, deadline, trace, edition)).data);
    } catch (error) {
      if (isNoSuchOrder(error)) return null;
      throw error;
    }
  }

  private async query(
    order: OrderRef,
    context: RequestContext,
    deadline: number,
    trace: Trace,
    edition: Edition = "standard",
  ): Promise<QueryOrderResponse> {
    const { merchant_no, request_no } = order;
    const prefix = EDITIONS[edition].queryPrefix;
    const path = `${prefix}${encodeURIComponent(merchant_no)}/${encodeURIComponent(request_no)}`;
    const request: SparkPayRequest = { operation: "query", method: "GET", path, body: "" };
    const sameOrder = (data: Record<string, unknown>, attempt: number) => requireSameOrder(order, data, attempt);
    const schema = edition === "pro" ? QueryProOrderResponseSchema : QueryOrderResponseSchema;
    // The Pro answer's data need not name merchant_no or merchant_order_no; its pay_status and request_no are checked.
    return (await this.exchange.withRetries({ request, deadline, context, trace }, schema, sameOrder))
      .value as QueryOrderResponse;
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

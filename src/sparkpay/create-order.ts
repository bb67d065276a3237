import { EDITIONS, type Edition, NO_SUCH_ORDER_CODES } from "./constants";
import { SparkPayApiError, SparkPayCreationLostError, SparkPayError, SparkPayRateLimitError } from "./errors";
import type { SparkPayExchange, Trace } from "./exchange";
import { type CreateOrderResponse, CreateOrderResponseSchema } from "./order-schemas";
import { hasTimeForAttempt } from "./retry-policy";
import type { OrderRef, OrderState } from "./schemas";
import type { RequestContext, SparkPayRequest } from "./transport";

/**
 * What the creation needs of the client: the exchange, and a verified query of the order under the same deadline
 * (the order, or null when SparkPay refused it as no such order; any other failure is thrown).
 */
export interface CreationParts {
  exchange: SparkPayExchange;
  find(
    order: OrderRef,
    edition: Edition,
    context: RequestContext,
    deadline: number,
    trace: Trace,
  ): Promise<OrderState | null>;
  /** The answer's data must be for this order, where it names one. */
  requireSameOrder(order: OrderRef, data: Record<string, unknown>, attempt: number): void;
}

/**
 * A refusal in SparkPay's error envelope (a 4xx with SparkPay's code: SparkPay's docs do not say such answers are
 * signed, so they are not verified; or a signed 2xx with a nonzero code), or its call limit: it did not create the
 * order. Anything else (no answer, a 5xx, an answer that failed verification or validation) may hide an order
 * SparkPay created.
 */
function refusedOutright(error: SparkPayError): boolean {
  return error instanceof SparkPayApiError || error instanceof SparkPayRateLimitError;
}

/**
 * Payment Order Creation, sent once: SparkPay documents nothing about a repeat with the same request_no, so a failure
 * is never answered by sending it again. A refusal is thrown as it is. When the answer could not be read, a verified
 * Payment Order Query decides what is said (SparkPayCreationLostError): created (with the order), not created (only
 * when the query refuses with SparkPay's "no such order"), or unknown.
 */
export async function createOrder(
  parts: CreationParts,
  edition: Edition,
  order: OrderRef,
  /** Exactly the bytes signed and sent. */
  body: string,
  context: RequestContext,
  deadline: number,
  trace: Trace,
): Promise<CreateOrderResponse> {
  const request: SparkPayRequest = { operation: "create", method: "POST", path: EDITIONS[edition].create, body };
  try {
    const operation = { request, deadline, context, trace, maxRetries: 0 };
    const { value } = await parts.exchange.withRetries(operation, CreateOrderResponseSchema, (data, attempt) =>
      parts.requireSameOrder(order, data, attempt),
    );
    return value;
  } catch (error) {
    if (!(error instanceof SparkPayError) || refusedOutright(error)) throw error;
    throw await whatTheQueryShows(parts, edition, order, error, context, deadline, trace);
  }
}

async function whatTheQueryShows(
  parts: CreationParts,
  edition: Edition,
  order: OrderRef,
  lost: SparkPayError,
  context: RequestContext,
  deadline: number,
  trace: Trace,
): Promise<SparkPayCreationLostError> {
  if (!hasTimeForAttempt(parts.exchange.now(), deadline)) return new SparkPayCreationLostError("unknown", lost);
  try {
    const shown = await parts.find(order, edition, context, deadline, trace);
    return shown
      ? new SparkPayCreationLostError("created", lost, shown)
      : new SparkPayCreationLostError("not_created", lost);
  } catch {
    return new SparkPayCreationLostError("unknown", lost);
  }
}

/** Whether a query's failure is SparkPay's "no such order" (NO_SUCH_ORDER_CODES, a GUESS). */
export function isNoSuchOrder(error: unknown): boolean {
  return error instanceof SparkPayApiError && NO_SUCH_ORDER_CODES.has(String(error.code));
}

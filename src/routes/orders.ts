import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import { methodNotAllowed } from "../errors";
import { callerAuth } from "../middleware/caller-auth";
import { jsonBody } from "../middleware/json-body";
import { callerLimit, merchantLimit } from "../middleware/limits";
import { merchantScope } from "../middleware/merchant-scope";
import { orderPath } from "../middleware/order-path";
import { validate } from "../middleware/validate";
import type { AttemptReport, RequestContext } from "../sparkpay/client";
import { CLOSE_ORDER_PATH, QUERY_ORDER_PATH_PREFIX } from "../sparkpay/constants";
import { SparkPayError } from "../sparkpay/errors";
import { type CloseOrderRequest, CloseOrderRequestSchema } from "../sparkpay/schemas";

/** Payment Order Query, the same path as SparkPay's. */
export const QUERY_ORDER_ROUTE = `${QUERY_ORDER_PATH_PREFIX}:merchant_no/:request_no` as const;

/**
 * Set on a 200 that Payment Order Query settled: `order-query` (the close's own answer was lost or refused),
 * `close-and-query` (SPARKPAY_CONFIRM_CLOSES=always: the close succeeded and the query agreed).
 */
export const CONFIRMED_HEADER = "X-Close-Confirmed-By";
/** SparkPay's own request id of its last answer (already bounded by the transport), for the caller to quote. */
export const SPARKPAY_REQUEST_ID = "X-SparkPay-Request-Id";

/** What every request to SparkPay carries from this request: its id, and a debug line per attempt for the log. */
function requestContext(c: Context<AppEnv>): RequestContext {
  const logFields = c.get("logFields");
  const requestId = c.get("requestId");
  const services = c.get("services");
  return {
    requestId,
    onAttempt: (attempt: AttemptReport) => {
      logFields.upstream_ms = (logFields.upstream_ms ?? 0) + attempt.durationMs;
      services.logger.debug({
        msg: "sparkpay attempt",
        request_id: requestId,
        operation: attempt.operation,
        attempt: attempt.attempt,
        key: attempt.key,
        status: attempt.status,
        error: attempt.error,
        duration_ms: attempt.durationMs,
        sparkpay_request_id: attempt.sparkpayRequestId,
      });
    },
  };
}

/**
 * Runs a SparkPay operation and puts SparkPay's request id of its last answer on the response, whatever the outcome
 * (the error envelope carries it too), and in the request's log line.
 */
async function withSparkPayRequestId<T extends { sparkpayRequestId: string | undefined }>(
  c: Context<AppEnv>,
  operation: () => Promise<T>,
): Promise<T> {
  const passOn = (id: string | undefined) => {
    if (id === undefined) return;
    c.header(SPARKPAY_REQUEST_ID, id);
    c.get("logFields").sparkpay_request_id = id;
  };
  try {
    const result = await operation();
    passOn(result.sparkpayRequestId);
    return result;
  } catch (error) {
    if (error instanceof SparkPayError) passOn(error.sparkpayRequestId);
    throw error;
  }
}

/**
 * Payment orders: the same paths and bodies as SparkPay, so a SparkPay client only changes its base
 * URL. Both routes: caller key, both rate limits, key scope, input rules, signed and verified.
 */
export const orders = new Hono<AppEnv>()
  .post(
    CLOSE_ORDER_PATH,
    callerAuth(),
    callerLimit,
    jsonBody(),
    validate<"json", typeof CloseOrderRequestSchema, typeof CLOSE_ORDER_PATH>("json", CloseOrderRequestSchema),
    merchantScope<AppEnv, typeof CLOSE_ORDER_PATH, { out: { json: CloseOrderRequest } }>(
      (c) => c.req.valid("json").merchant_no,
    ),
    merchantLimit,
    async (c) => {
      const client = c.get("services").sparkpay();
      const order = c.req.valid("json");
      const result = await withSparkPayRequestId(c, () => client.closeOrder(order, requestContext(c)));
      const { envelope, attempts, confirmedBy } = result;
      Object.assign(c.get("logFields"), {
        upstream_status: 200,
        sparkpay_code: envelope.code,
        attempts,
        confirmed_by: confirmedBy,
      });
      if (confirmedBy !== "close") c.header(CONFIRMED_HEADER, confirmedBy);
      return c.json(envelope, 200);
    },
  )
  .get(QUERY_ORDER_ROUTE, orderPath<typeof QUERY_ORDER_ROUTE>("read"), async (c) => {
    const client = c.get("services").sparkpay();
    const order = c.req.valid("param");
    const { envelope } = await withSparkPayRequestId(c, () => client.queryOrder(order, requestContext(c)));
    Object.assign(c.get("logFields"), { upstream_status: 200, sparkpay_code: envelope.code });
    return c.json(envelope, 200);
  })
  .all(CLOSE_ORDER_PATH, (c) => {
    throw methodNotAllowed(c.req.method, ["POST"]);
  });

import { vValidator } from "@hono/valibot-validator";
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { writeLog } from "../log";
import { callerAuth } from "../middleware/caller-auth";
import { invalidRequest } from "../middleware/invalid-request";
import { jsonBody } from "../middleware/json-body";
import { callerLimit, merchantLimit } from "../middleware/limits";
import { merchantScope } from "../middleware/merchant-scope";
import { orderPath } from "../middleware/order-path";
import type { AttemptReport } from "../sparkpay/client";
import { CLOSE_ORDER_PATH, QUERY_ORDER_PATH_PREFIX } from "../sparkpay/constants";
import { type CloseOrderRequest, CloseOrderRequestSchema } from "../sparkpay/schemas";
import { sparkPayClient } from "../sparkpay-client";

/** Payment Order Query, the same path as SparkPay's. */
export const QUERY_ORDER_ROUTE = `${QUERY_ORDER_PATH_PREFIX}:merchant_no/:request_no` as const;

/** Set on a 200 that Payment Order Query produced after the close's own answer was lost or refused. */
export const CONFIRMED_HEADER = "X-Close-Confirmed-By";
/** SparkPay's own request id of its last answer (already bounded by the transport), for the caller to quote. */
export const SPARKPAY_REQUEST_ID = "X-SparkPay-Request-Id";

/**
 * For each request sent to SparkPay: logs it (debug), sums what the request's log line reports, and sets
 * X-SparkPay-Request-Id to SparkPay's id of the latest answer.
 */
function attemptLogger(c: Context<AppEnv>): (attempt: AttemptReport) => void {
  const { logFields, logLevel, requestId } = c.var;
  return (attempt) => {
    logFields.upstream_ms = (logFields.upstream_ms ?? 0) + attempt.durationMs;
    logFields.sparkpay_request_id = attempt.sparkpayRequestId ?? logFields.sparkpay_request_id;
    // Set before the answer exists, so it goes on the success and on the error envelope alike.
    if (attempt.sparkpayRequestId !== undefined) c.header(SPARKPAY_REQUEST_ID, attempt.sparkpayRequestId);
    writeLog(logLevel, "debug", {
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
  };
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
    vValidator("json", CloseOrderRequestSchema, invalidRequest),
    merchantScope<AppEnv, typeof CLOSE_ORDER_PATH, { out: { json: CloseOrderRequest } }>(
      (c) => c.req.valid("json").merchant_no,
    ),
    merchantLimit,
    async (c) => {
      const client = await sparkPayClient(c.env);
      const result = await client.closeOrder(c.req.valid("json"), {
        requestId: c.var.requestId,
        onAttempt: attemptLogger(c),
      });
      const { envelope, attempts, confirmedByQuery } = result;
      Object.assign(c.var.logFields, {
        upstream_status: 200,
        sparkpay_code: envelope.code,
        attempts,
        confirmed_by_query: confirmedByQuery,
      });
      if (confirmedByQuery) c.header(CONFIRMED_HEADER, "order-query");
      return c.json(envelope, 200);
    },
  )
  .get(QUERY_ORDER_ROUTE, orderPath<typeof QUERY_ORDER_ROUTE>(), async (c) => {
    const client = await sparkPayClient(c.env);
    const envelope = await client.queryOrder(c.req.valid("param"), {
      requestId: c.var.requestId,
      onAttempt: attemptLogger(c),
    });
    Object.assign(c.var.logFields, { upstream_status: 200, sparkpay_code: envelope.code });
    return c.json(envelope, 200);
  })
  .all(CLOSE_ORDER_PATH, (c) => {
    throw new GatewayError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use POST.`, {
      headers: { Allow: "POST" },
    });
  });

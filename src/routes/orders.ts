import { vValidator } from "@hono/valibot-validator";
import { Hono } from "hono/tiny";
import { callerLimitKey } from "../caller-keys";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { writeLog } from "../log";
import { callerAuth } from "../middleware/caller-auth";
import { jsonBody } from "../middleware/json-body";
import { merchantScope } from "../middleware/merchant-scope";
import { rateLimit } from "../middleware/rate-limit";
import type { AttemptReport } from "../sparkpay/client";
import { CLOSE_ORDER_PATH } from "../sparkpay/constants";
import { type CloseOrderRequest, CloseOrderRequestSchema } from "../sparkpay/schemas";
import { sparkPayClient } from "../sparkpay-client";

/** Set on a 200 that Payment Order Query produced after the close's own answer was lost or refused. */
export const CONFIRMED_HEADER = "X-Close-Confirmed-By";

/** Payment orders: the same path and body as SparkPay, so a SparkPay client only changes its base URL. */
export const orders = new Hono<AppEnv>()
  .post(
    CLOSE_ORDER_PATH,
    callerAuth(),
    rateLimit({ binding: "CALLER_RATE_LIMITER", key: (c) => callerLimitKey(c.var.caller), subject: "caller key" }),
    jsonBody(),
    vValidator("json", CloseOrderRequestSchema, (result) => {
      if (!result.success) throw new GatewayError("INVALID_REQUEST", result.issues[0].message);
    }),
    merchantScope<AppEnv, typeof CLOSE_ORDER_PATH, { out: { json: CloseOrderRequest } }>(
      (c) => c.req.valid("json").merchant_no,
    ),
    rateLimit({ binding: "MERCHANT_RATE_LIMITER", key: (c) => `merchant:${c.var.merchantNo}`, subject: "merchant_no" }),
    async (c) => {
      const client = await sparkPayClient(c.env);
      const { logFields, logLevel, requestId } = c.var;
      const onAttempt = (attempt: AttemptReport) => {
        logFields.upstream_ms = (logFields.upstream_ms ?? 0) + attempt.durationMs;
        logFields.sparkpay_request_id = attempt.sparkpayRequestId ?? logFields.sparkpay_request_id;
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
      const result = await client.closeOrder(c.req.valid("json"), { requestId, onAttempt });
      const { envelope, attempts, confirmedByQuery } = result;
      Object.assign(logFields, {
        upstream_status: 200,
        sparkpay_code: envelope.code,
        attempts,
        confirmed_by_query: confirmedByQuery,
      });
      if (confirmedByQuery) c.header(CONFIRMED_HEADER, "order-query");
      return c.json(envelope, 200);
    },
  )
  .all(CLOSE_ORDER_PATH, (c) => {
    throw new GatewayError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use POST.`, { Allow: "POST" });
  });

import { vValidator } from "@hono/valibot-validator";
import { Hono } from "hono/tiny";
import { firstProblem, loadConfig } from "../config";
import { ConfigError, GatewayError } from "../errors";
import { writeLog } from "../log";
import { callerAuth } from "../middleware/caller-auth";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { CLOSE_ORDER_PATH } from "../sparkpay/constants";
import { CloseOrderRequestSchema } from "../sparkpay/schemas";
import type { AppEnv } from "../types";

/** Set on a 200 that Payment Order Query produced after the close's own answer was lost or refused. */
export const CONFIRMED_HEADER = "X-Close-Confirmed-By";

/** Payment orders: the same path and body as SparkPay, so a SparkPay client only changes its base URL. */
export const orders = new Hono<AppEnv>()
  .post(
    CLOSE_ORDER_PATH,
    callerAuth(),
    rateLimit({ binding: "CALLER_RATE_LIMITER", key: (c) => `caller:${c.var.caller.id}`, subject: "caller key" }),
    jsonBody(),
    vValidator("json", CloseOrderRequestSchema, (result) => {
      if (!result.success) throw new GatewayError("INVALID_REQUEST", result.issues[0].message);
    }),
    async (c, next) => {
      const { merchant_no } = c.req.valid("json");
      c.set("merchantNo", merchant_no);
      c.var.logFields.merchant_no = merchant_no;
      const allowed = c.var.caller.merchants;
      if (allowed && !allowed.has(merchant_no)) {
        throw new GatewayError("FORBIDDEN", "This caller key may not act for this merchant_no.");
      }
      await next();
    },
    rateLimit({ binding: "MERCHANT_RATE_LIMITER", key: (c) => `merchant:${c.var.merchantNo}`, subject: "merchant_no" }),
    async (c) => {
      const { config, report } = await loadConfig(c.env);
      if (!config) throw new ConfigError(firstProblem(report));
      const { logFields, logLevel, requestId } = c.var;
      const { envelope, attempts, confirmedByQuery } = await config.client.closeOrder(c.req.valid("json"), {
        requestId,
        onAttempt: (attemptReport) => {
          logFields.upstream_ms = (logFields.upstream_ms ?? 0) + attemptReport.durationMs;
          logFields.sparkpay_request_id = attemptReport.sparkpayRequestId ?? logFields.sparkpay_request_id;
          writeLog(logLevel, "debug", {
            msg: "sparkpay attempt",
            request_id: requestId,
            operation: attemptReport.operation,
            attempt: attemptReport.attempt,
            key: attemptReport.key,
            status: attemptReport.status,
            error: attemptReport.error,
            duration_ms: attemptReport.durationMs,
            sparkpay_request_id: attemptReport.sparkpayRequestId,
          });
        },
      });
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
  .all(CLOSE_ORDER_PATH, (c) => {
    throw new GatewayError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use POST.`, { Allow: "POST" });
  });

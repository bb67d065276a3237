import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import { methodNotAllowed } from "../errors";
import { callerAuth } from "../middleware/caller-auth";
import { jsonBody } from "../middleware/json-body";
import { callerLimit, merchantLimit } from "../middleware/limits";
import { merchantScope } from "../middleware/merchant-scope";
import { type OrderPathInput, orderPath } from "../middleware/order-path";
import { validate } from "../middleware/validate";
import {
  CLOSE_ORDER_PATH,
  type Edition,
  QUERY_ORDER_PATH_PREFIX,
  QUERY_PRO_ORDER_PATH_PREFIX,
} from "../sparkpay/constants";
import { type CloseOrderRequest, CloseOrderRequestSchema } from "../sparkpay/schemas";
import { requestContext, withSparkPayRequestId } from "./sparkpay-call";

/** Payment Order Query, the same path as SparkPay's. */
export const QUERY_ORDER_ROUTE = `${QUERY_ORDER_PATH_PREFIX}:merchant_no/:request_no` as const;
/** The Pro edition's query (fiat pricing, crypto payment). */
export const QUERY_PRO_ORDER_ROUTE = `${QUERY_PRO_ORDER_PATH_PREFIX}:merchant_no/:request_no` as const;

/**
 * Set on a 200 that Payment Order Query settled: `order-query` (the close's own answer was lost or refused),
 * `close-and-query` (SPARKPAY_CONFIRM_CLOSES=always: the close succeeded and the query agreed).
 */
export const CONFIRMED_HEADER = "X-Close-Confirmed-By";
/** Payment Order Query's answer, as SparkPay sent it once verified (the standard or the Pro edition's). */
async function queryAnswer(c: Context<AppEnv, string, OrderPathInput>, edition: Edition) {
  const client = c.get("services").sparkpay();
  const order = c.req.valid("param");
  const { envelope } = await withSparkPayRequestId(c, () => client.queryOrder(order, requestContext(c), edition));
  Object.assign(c.get("logFields"), { upstream_status: 200, sparkpay_code: envelope.code });
  return c.json(envelope, 200);
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
  .get(QUERY_ORDER_ROUTE, orderPath<typeof QUERY_ORDER_ROUTE>("read"), (c) => queryAnswer(c, "standard"))
  .get(QUERY_PRO_ORDER_ROUTE, orderPath<typeof QUERY_PRO_ORDER_ROUTE>("read"), (c) => queryAnswer(c, "pro"))
  .all(CLOSE_ORDER_PATH, (c) => {
    throw methodNotAllowed(c.req.method, ["POST"]);
  });

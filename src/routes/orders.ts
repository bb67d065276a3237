import { vValidator } from "@hono/valibot-validator";
import { Hono } from "hono";
import { sparkPayClientFor } from "../config";
import { GatewayError } from "../errors";
import { callerAuth } from "../middleware/caller-auth";
import { jsonBody } from "../middleware/json-body";
import { CLOSE_ORDER_PATH } from "../sparkpay/constants";
import { CloseOrderRequestSchema } from "../sparkpay/schemas";
import type { AppEnv } from "../types";

/** Payment orders: the same path and body as SparkPay, so a SparkPay client only changes its base URL. */
export const orders = new Hono<AppEnv>()
  .post(
    CLOSE_ORDER_PATH,
    callerAuth(),
    jsonBody(),
    vValidator("json", CloseOrderRequestSchema, (result) => {
      if (!result.success) throw new GatewayError("INVALID_REQUEST", result.issues[0].message);
    }),
    async (c) => {
      const order = c.req.valid("json");
      c.var.logFields.merchant_no = order.merchant_no;
      const client = await sparkPayClientFor(c.env);
      const { httpStatus, envelope } = await client.closeOrder(order, { requestId: c.var.requestId });
      c.var.logFields.upstream_status = httpStatus;
      c.var.logFields.sparkpay_code = envelope.code;
      return c.json(envelope, 200);
    },
  )
  .all(CLOSE_ORDER_PATH, (c) => {
    throw new GatewayError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use POST.`, { Allow: "POST" });
  });

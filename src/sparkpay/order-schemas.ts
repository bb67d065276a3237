import * as v from "valibot";
import { MAX_CASHIER_URL_LENGTH } from "./constants";
import { identifier, successEnvelope } from "./schemas";

/**
 * Payment Order Creation's bodies (`POST /v4/pay/cashier`, `POST /v4/pro/pay/cashier`) and answers. SparkPay's pages
 * give each field's type but not which are required beyond merchant_no and request_no, so every other known field is
 * optional and checked by type only; unknown fields are kept (`v.looseObject`): SparkPay adds fields over time.
 */

const text = (field: string) => v.optional(v.string(`${field} must be a string.`));
const integer = (field: string) =>
  v.optional(v.pipe(v.number(`${field} must be an integer.`), v.safeInteger(`${field} must be an integer.`)));
const object = (field: string) => `${field} must be an object.`;

/** A missing required key is reported against the object, with the key in the issue's path. */
const missingKey = (issue: v.BaseIssue<unknown>) => {
  const key = issue.path?.[0]?.key;
  return typeof key === "string" ? `${key} is required.` : "The body must be a JSON object.";
};

/** Multi-party payment (the names and types of 2024-06-27). */
const DivideDetailSchema = v.looseObject(
  {
    seller_amount: text("divide_detail.seller_amount"),
    seller_addr: text("divide_detail.seller_addr"),
    merchant_amount: text("divide_detail.merchant_amount"),
    other_details: v.optional(
      v.array(
        v.looseObject(
          {
            receiver_addr: text("divide_detail.other_details[].receiver_addr"),
            amount: text("divide_detail.other_details[].amount"),
          },
          object("each of divide_detail.other_details"),
        ),
        "divide_detail.other_details must be an array.",
      ),
    ),
  },
  object("divide_detail"),
);

/** The standard edition's body: every documented field, by its documented type. */
export const CreateOrderRequestSchema = v.looseObject(
  {
    merchant_no: identifier("merchant_no"),
    request_no: identifier("request_no"),
    merchant_order_time: integer("merchant_order_time"),
    total_amount: text("total_amount"),
    merchant_order_currency: text("merchant_order_currency"),
    merchant_order_timeout: integer("merchant_order_timeout"),
    merchant_order_desc: text("merchant_order_desc"),
    goods_info: text("goods_info"),
    merchant_order_no: text("merchant_order_no"),
    merchant_application_user_id: text("merchant_application_user_id"),
    notify_url: text("notify_url"),
    redirect_url: text("redirect_url"),
    business_info: text("business_info"),
    divide_detail: v.optional(DivideDetailSchema),
    extension: text("extension"),
    receive_network: text("receive_network"),
  },
  missingKey,
);
export type CreateOrderRequest = v.InferOutput<typeof CreateOrderRequestSchema>;

/** The Pro edition's body: its page is cut after merchant_no and request_no (both required); the rest passes as is. */
export const CreateProOrderRequestSchema = v.looseObject(
  {
    merchant_no: identifier("merchant_no"),
    request_no: identifier("request_no"),
    notify_url: text("notify_url"),
    redirect_url: text("redirect_url"),
  },
  missingKey,
);
export type CreateProOrderRequest = v.InferOutput<typeof CreateProOrderRequestSchema>;

/**
 * A creation's success: the checkout link is the one field the docs promise; the rest of `data` passes through. The
 * link is a web page's (http or https): callers redirect customers to it, so a javascript: or data: link is refused.
 */
export const CreateOrderResponseSchema = successEnvelope(
  v.looseObject({
    cashier_url: v.pipe(
      v.string(),
      v.maxLength(MAX_CASHIER_URL_LENGTH),
      v.url(),
      v.regex(/^https?:\/\//i, "cashier_url is not an http or https link"),
    ),
  }),
);
export type CreateOrderResponse = v.InferOutput<typeof CreateOrderResponseSchema>;

/**
 * The Pro query: its page lists request_no and pay_status (and merchant_customer_no, not merchant_no), so only those
 * two are required; everything else passes through.
 */
export const QueryProOrderResponseSchema = successEnvelope(
  v.looseObject({ request_no: v.string(), pay_status: v.string() }),
);
export type QueryProOrderResponse = v.InferOutput<typeof QueryProOrderResponseSchema>;

import * as v from "valibot";
import { MAX_REFUSAL_CODE_LENGTH, MAX_REFUSAL_MESSAGE_LENGTH } from "./constants";
import { IDENTIFIER_CHARACTERS, IDENTIFIER_MAX_LENGTH } from "./identifiers";

/** SparkPay's identifier rule (./identifiers), with messages naming the field and the rule it breaks. */
export function identifier(field: string) {
  return v.pipe(
    v.string(`${field} must be a string.`),
    v.minLength(1, `${field} must not be empty.`),
    v.maxLength(IDENTIFIER_MAX_LENGTH, `${field} must be at most ${IDENTIFIER_MAX_LENGTH} characters.`),
    v.regex(IDENTIFIER_CHARACTERS, `${field} may contain only letters, digits and underscore.`),
  );
}

/** Which order: what SparkPay's order operations are keyed by. */
export interface OrderRef {
  merchant_no: string;
  request_no: string;
}

/** Body of `POST /v4/pay/orders/close`. `v.object` drops unknown keys, so they are never forwarded. */
export const CloseOrderRequestSchema = v.object(
  { request_no: identifier("request_no"), merchant_no: identifier("merchant_no") },
  // valibot reports a missing key against the object, with the key in the issue's path.
  (issue) => {
    const key = issue.path?.[0]?.key;
    return typeof key === "string" ? `${key} is required.` : "The body must be a JSON object.";
  },
);
export type CloseOrderRequest = v.InferOutput<typeof CloseOrderRequestSchema>;

/** Path of `GET /v4/pay/orders/{merchant_no}/{request_no}` (Payment Order Query): the same rules. */
export const OrderPathSchema = v.object({
  merchant_no: identifier("merchant_no"),
  request_no: identifier("request_no"),
});

/** The docs show `code` both as 0 and "0"; SparkPay may add fields at any time, so objects are loose. */
const SUCCESS_CODE = v.union([v.literal(0), v.literal("0")]);

export function successEnvelope<T extends v.GenericSchema>(data: T) {
  return v.looseObject({ code: SUCCESS_CODE, message: v.string(), data });
}

export const CloseOrderDataSchema = v.looseObject({
  request_no: v.string(),
  merchant_no: v.string(),
  merchant_order_no: v.string(),
});

export const CloseOrderResponseSchema = successEnvelope(CloseOrderDataSchema);
export type CloseOrderResponse = v.InferOutput<typeof CloseOrderResponseSchema>;

/** Payment Order Query: only the fields close-and-confirm relies on are required. */
export const QueryOrderResponseSchema = successEnvelope(
  v.looseObject({
    request_no: v.string(),
    merchant_no: v.string(),
    merchant_order_no: v.string(),
    pay_status: v.string(),
  }),
);
export type QueryOrderResponse = v.InferOutput<typeof QueryOrderResponseSchema>;

/**
 * The order as a verified Payment Order Query showed it: SparkPay's `data`, verbatim (pay_status whatever its value).
 * Its fields are JSON values, typed one level deep (a Workflow step's result type must not recurse).
 */
export interface OrderState {
  pay_status: string;
  [field: string]: string | number | boolean | null | object;
}

/** A verified query's data as an OrderState: it came from JSON.parse, so every value in it is JSON. */
export function orderStateOf(data: QueryOrderResponse["data"]): OrderState {
  return data as OrderState;
}

/** Whether a value reads as an OrderState (an object with a string pay_status), e.g. one read back from storage. */
export function isOrderState(value: unknown): value is OrderState {
  return typeof value === "object" && value !== null && typeof (value as OrderState).pay_status === "string";
}

/**
 * SparkPay's refusal: `{code, message}` with any code, known or not, within bounds that make it
 * safe to relay and log: an integer, or at most 64 visible ASCII characters; the message is cut
 * at 512 characters.
 */
export const SparkPayErrorEnvelopeSchema = v.looseObject({
  code: v.union([
    v.pipe(v.number(), v.safeInteger()),
    v.pipe(v.string(), v.regex(new RegExp(`^[\\x21-\\x7e]{1,${MAX_REFUSAL_CODE_LENGTH}}$`))),
  ]),
  message: v.pipe(
    v.string(),
    v.transform((message) => truncate(message, MAX_REFUSAL_MESSAGE_LENGTH)),
  ),
});

/** The first `max` characters, never ending in half a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

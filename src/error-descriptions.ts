import type { GatewayErrorCode } from "./errors";

/** What each gateway error code means, for the README, the OpenAPI document and their tests. */
export const GATEWAY_ERROR_DESCRIPTIONS: Record<GatewayErrorCode, string> = {
  INVALID_JSON: "The body is not valid JSON, or not a JSON object.",
  INVALID_REQUEST: "A field is missing or breaks its rule; the message names the field.",
  UNAUTHORIZED: "No Authorization: Bearer header, or the key is not one of GATEWAY_API_KEYS.",
  FORBIDDEN: "The caller key is scoped to other merchants than this merchant_no.",
  NOT_FOUND: "No such route, or (/v1/closes) no close job for this order.",
  METHOD_NOT_ALLOWED: "The route exists but not for this method; see the Allow header.",
  CLOSE_CONFLICT:
    "The order's close job cannot do that now: it is closing and cannot be rescheduled, it was cancelled (PUT " +
    'with {"reopen": true} to close it after all), or it is closing or has ended and cannot be cancelled.',
  ORDER_NOT_CLOSABLE:
    "SparkPay answered the close (a refusal, or a 'success' that does not say closed) and a verified Payment Order " +
    "Query shows the order with a pay_status other than CLOSED: it is not closed. `order` is the query's data as " +
    "SparkPay sent it (pay_status verbatim), `refusal` SparkPay's refusal when it refused. Do not close it again: " +
    "if it was paid, fulfil the order or refund it.",
  REQUEST_NO_REUSED:
    "This order (merchant_no and request_no, request_no in any case) was already created through the gateway with " +
    "a different body or edition: a request_no names one order. Use a new request_no for a new order.",
  CREATION_IN_PROGRESS:
    "Another request is creating this order right now; send the same request again after Retry-After and it is " +
    "answered with that creation's outcome.",
  PAYLOAD_TOO_LARGE: "The body is over the route's limit: 32 KiB for an order's creation, 8 KiB elsewhere.",
  UNSUPPORTED_MEDIA_TYPE: "Content-Type is not application/json.",
  RATE_LIMITED: "Over the gateway's own limit for this caller key or merchant_no; see Retry-After.",
  UPSTREAM_RATE_LIMITED: "SparkPay answered HTTP 429 without its own code; Retry-After is SparkPay's when it sent one.",
  INTERNAL_ERROR: "A bug in the gateway; the request id finds it in the logs.",
  UPSTREAM_UNREACHABLE: "SparkPay could not be reached (DNS, connect, TLS or reset).",
  UPSTREAM_SERVER_ERROR: "SparkPay answered HTTP 5xx.",
  UPSTREAM_INVALID_RESPONSE:
    "SparkPay's answer was over SPARKPAY_MAX_RESPONSE_BYTES, not JSON, of the wrong shape, for another order, " +
    "or a close 'success' that does not say closed (and no confirming query answered).",
  UPSTREAM_SIGNATURE_INVALID:
    "SparkPay's answer had a missing or wrong signature, a timestamp more than 300 s off, or was a replay " +
    "of an answer already seen.",
  ORDER_CREATED_ANSWER_LOST:
    "SparkPay's answer to the creation was lost (or failed verification) and a verified Payment Order Query shows " +
    "the order exists: it was created, but its cashier_url could not be read. `order` is the query's data. Do not " +
    "create it again (a repeat answers the same); query it, or close it and create a new order.",
  ORDER_NOT_CREATED:
    "SparkPay's answer to the creation was lost and a verified Payment Order Query shows SparkPay has no such order: " +
    "it was not created, and a close_at job made for it was cancelled. Send the same request again.",
  ORDER_CREATION_UNKNOWN:
    "SparkPay's answer to the creation was lost and the query that would tell whether the order exists did not " +
    "answer either. Send the same request again: the gateway asks SparkPay before it creates anything.",
  GATEWAY_MISCONFIGURED:
    "A setting or binding is missing, malformed, still a placeholder, or the keys are swapped; the message " +
    "names it (never its value).",
  CLOSE_JOBS_UNAVAILABLE:
    "The durable closes could not be reached: the close jobs' database (D1) did not answer (retry after Retry-After; " +
    "the request is safe to repeat), or Cloudflare Workflows did not start the job (it is marked failed, so PUT " +
    "again schedules a new one).",
  UPSTREAM_TIMEOUT: "SparkPay did not answer within SPARKPAY_TIMEOUT_MS (on the last attempt).",
};

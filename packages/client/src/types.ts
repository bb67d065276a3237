/**
 * The gateway's bodies as plain types, for callers. They mirror the gateway's valibot schemas (a test in the gateway's
 * repository compares them), but import nothing: a caller's project compiles them with no Worker, DOM or Node types.
 */

/** An order, as SparkPay names it: the merchant and the merchant's payment request number. */
export interface OrderRef {
  merchant_no: string;
  request_no: string;
}

/** PUT /v1/closes: when to close, in Unix seconds (absent or past: now; at most 30 days ahead). */
export interface ScheduleCloseRequest extends OrderRef {
  close_at?: number;
  /** `true` closes an order whose close job was cancelled (a new job); without it that PUT is 409 CLOSE_CONFLICT. */
  reopen?: boolean;
}

/** SparkPay's documentation shows its success code both as 0 and as "0"; both pass through. */
export type SuccessCode = 0 | "0";

/** The closed order. SparkPay may add fields at any time; they pass through. */
export interface CloseOrderData {
  request_no: string;
  merchant_no: string;
  merchant_order_no: string;
  [field: string]: unknown;
}

/** POST /v4/pay/orders/close: SparkPay's envelope, verified and validated by the gateway. */
export interface CloseOrderResponse {
  code: SuccessCode;
  message: string;
  data: CloseOrderData;
  [field: string]: unknown;
}

/** Payment Order Query's data: only what the gateway relies on is certain, the rest passes through. */
export interface QueryOrderData extends CloseOrderData {
  pay_status: string;
}

/** GET /v4/pay/orders/{merchant_no}/{request_no}. */
export interface QueryOrderResponse {
  code: SuccessCode;
  message: string;
  data: QueryOrderData;
  [field: string]: unknown;
}

/**
 * Payment Order Creation's body (POST /v4/pay/cashier), as SparkPay documents it: every field but merchant_no and
 * request_no is optional here since SparkPay does not say which it requires; fields SparkPay adds pass through.
 * `notify_url` is the gateway's own receiver whatever is sent (another value is refused); leave it out.
 */
export interface CreateOrderRequest extends OrderRef {
  merchant_order_time?: number;
  total_amount?: string;
  merchant_order_currency?: string;
  merchant_order_timeout?: number;
  merchant_order_desc?: string;
  goods_info?: string;
  merchant_order_no?: string;
  merchant_application_user_id?: string;
  notify_url?: string;
  redirect_url?: string;
  business_info?: string;
  divide_detail?: {
    seller_amount?: string;
    seller_addr?: string;
    merchant_amount?: string;
    other_details?: { receiver_addr?: string; amount?: string; [field: string]: unknown }[];
    [field: string]: unknown;
  };
  extension?: string;
  receive_network?: string;
  /** The gateway's own (never sent to SparkPay): a durable close of the new order at this Unix time, ≥ 60 s ahead. */
  close_at?: number;
  [field: string]: unknown;
}

/** The Pro edition's body (POST /v4/pro/pay/cashier): its page is cut after merchant_no and request_no. */
export interface CreateProOrderRequest extends OrderRef {
  notify_url?: string;
  redirect_url?: string;
  /** As for CreateOrderRequest. */
  close_at?: number;
  [field: string]: unknown;
}

/** A creation's answer: SparkPay's envelope, with the order's close job when close_at asked for one. */
export interface CreateOrderResponse {
  code: SuccessCode;
  message: string;
  data: { cashier_url: string; [field: string]: unknown };
  close_job?: CloseJob;
  [field: string]: unknown;
}

/** The Pro query's data (GET /v4/pro/pay/orders/…): its page names request_no and pay_status; the rest passes through. */
export interface QueryProOrderResponse {
  code: SuccessCode;
  message: string;
  data: { request_no: string; pay_status: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** `not_closable`: a verified query showed the order in another pay_status than CLOSED (e.g. paid); see `order`. */
export type JobStatus = "scheduled" | "closing" | "closed" | "failed" | "cancelled" | "not_closable";

/**
 * How a close was established: a query showing CLOSED after SparkPay accepted the close (`close-and-query`) or after
 * the close's answer was lost or refused (`order-query`); `close` only on jobs closed by older gateway versions.
 */
export type ConfirmedBy = "close" | "order-query" | "close-and-query";

/** Where the delivery of a job's latest event stands: tries left, delivered, or every try refused. */
export interface WebhookState {
  event_id: string;
  type: string;
  status: "pending" | "delivered" | "failed";
  /** Tries so far. */
  attempts: number;
  /** The last try's time (when delivered: the delivery's). */
  at: number;
  /** Why the last try failed (the receiver's HTTP status, or no answer), while not delivered. */
  last_error?: string;
}

/** The order as a verified Payment Order Query showed it: SparkPay's data verbatim, pay_status whatever its value. */
export interface OrderState {
  pay_status: string;
  [field: string]: string | number | boolean | null | object;
}

/** Who made a change: a caller (the first 6 bytes of its key's SHA-256, in hex) or the gateway. */
export type Actor = `caller:${string}` | "gateway";

export interface HistoryEntry {
  at: number;
  status: JobStatus;
  by: Actor;
  code?: string | number;
  /** The pay_status a verified query showed, on entries a query decided. */
  pay_status?: string;
  /**
   * An entry that is not a change of status: `late_payment`, the re-check found a payment after the close;
   * `repaired`, the job's Workflow instance had died or never run and the gateway gave it a new one; `notified`,
   * SparkPay notified a change of the order and a verified query showed the entry's `pay_status`.
   */
  event?: "late_payment" | "repaired" | "notified";
  /** On the entries that set the job's close_at (its creation, each reschedule): the close_at from then on. */
  close_at?: number;
  /** On a reschedule: the close_at it replaced. */
  previous_close_at?: number;
}

/** A durable close job (/v1/closes). Times are Unix seconds. */
export interface CloseJob {
  merchant_no: string;
  request_no: string;
  status: JobStatus;
  close_at: number;
  created_at: number;
  updated_at: number;
  attempts: number;
  closed_at?: number;
  confirmed_by?: ConfirmedBy;
  /** Why the job failed (or what its last round met): a gateway code or SparkPay's. */
  error?: { code: string | number; message: string };
  /** The order as the job's last verified Payment Order Query showed it. */
  order?: OrderState;
  /** When the re-check after `closed` found the order no longer CLOSED (paid after the close). */
  late_payment_at?: number;
  /** How often the job was rescheduled (at most 100). */
  reschedules: number;
  /** The delivery of its latest event to the gateway's CLOSE_WEBHOOK_URL, once one was tried. */
  webhook?: WebhookState;
  /** The most recent history entries (100 at most), oldest first; `history_total` counts them all. */
  history: HistoryEntry[];
  history_total: number;
}

/** Every failure the gateway answers with. */
export interface ErrorEnvelope {
  code: string | number;
  message: string;
  request_id: string;
  /** The one input at fault: a body or path field, or a header name. */
  param?: string;
  /** The code's entry in the gateway's error reference (absent when the gateway's API_DOCS is off). */
  doc_url?: string;
  /** The order as a verified query showed it: always with ORDER_NOT_CLOSABLE, and on a failed close it followed. */
  order?: OrderState;
  /** With ORDER_NOT_CLOSABLE: SparkPay's refusal of the close, when it refused. */
  refusal?: { http_status: number; code: string | number; message: string };
}

/** The codes the gateway itself answers with; any other code is SparkPay's own, passed through. */
export type GatewayErrorCode =
  | "INVALID_JSON"
  | "INVALID_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CLOSE_CONFLICT"
  | "ORDER_NOT_CLOSABLE"
  | "REQUEST_NO_REUSED"
  | "CREATION_IN_PROGRESS"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "UPSTREAM_RATE_LIMITED"
  | "INTERNAL_ERROR"
  | "UPSTREAM_UNREACHABLE"
  | "UPSTREAM_SERVER_ERROR"
  | "UPSTREAM_INVALID_RESPONSE"
  | "UPSTREAM_SIGNATURE_INVALID"
  | "ORDER_CREATED_ANSWER_LOST"
  | "ORDER_NOT_CREATED"
  | "ORDER_CREATION_UNKNOWN"
  | "GATEWAY_MISCONFIGURED"
  | "CLOSE_JOBS_UNAVAILABLE"
  | "UPSTREAM_TIMEOUT";

/**
 * The client's own codes (HTTP status 0 for the first two): no answer came (`NETWORK_ERROR`), none came in time
 * (`TIMEOUT`), or what came was not the gateway's JSON (`INVALID_GATEWAY_RESPONSE`, e.g. a proxy's HTML page).
 */
export type ClientErrorCode = "NETWORK_ERROR" | "TIMEOUT" | "INVALID_GATEWAY_RESPONSE";

/** A GatewayClientError's code: the gateway's, the client's, or SparkPay's (a number, or text SparkPay sent). */
// `string & {}` keeps editors suggesting the named codes while any other text stays allowed.
export type ErrorCode = GatewayErrorCode | ClientErrorCode | number | (string & {});

/**
 * `close.closed`, `close.failed`, `close.not_closable`: the job ended so. `close.late_payment`: after `closed`, a
 * verified query (the re-check, or SparkPay's notification confirmed) showed the order no longer CLOSED.
 */
export type CloseEventType = "close.closed" | "close.failed" | "close.not_closable" | "close.late_payment";

/** A close job's event. */
export interface CloseEvent {
  id: string;
  type: CloseEventType;
  created: number;
  data: CloseJob;
}

/**
 * `order.updated`: SparkPay notified the gateway of a change of the order, and a verified Payment Order Query showed a
 * pay_status the gateway had not reported for it. `data` is that query's data (`pay_status` verbatim, never mapped)
 * and the order's close job when it has one. One event per order and pay_status: the id is the same on every delivery.
 */
export interface OrderUpdatedEvent {
  id: string;
  type: "order.updated";
  created: number;
  data: OrderState & { merchant_no: string; request_no: string; close_job?: CloseJob };
}

/**
 * What the gateway POSTs to CLOSE_WEBHOOK_URL, every type with the same `Gateway-Signature`
 * (`t=<Unix s>,v1=<hex HMAC-SHA256(CLOSE_WEBHOOK_SECRET, "<t>.<raw body>")>`): verify it over the raw body before
 * parsing, and drop duplicates by `id` (delivery is at least once). Narrow on `type`.
 */
export type GatewayEvent = CloseEvent | OrderUpdatedEvent;

// @ts-check
/**
 * Payment Order Creation as the sandbox plays it (`POST /v4/pay/cashier`, `POST /v4/pro/pay/cashier`): the signed
 * body is read, the order stored PAYING with what the body says of it, and the answer carries a `cashier_url` on the
 * sandbox's own checkout page (cashier-page.mjs). Creation faults, by request_no prefix `FAULT_<NAME>_`:
 *   createlost     the order is created, then the connection drops (the answer is lost)
 *   createdrop     the connection drops before anything is created
 *   createunknown  as createlost, and the order's next 3 queries answer HTTP 503 (whether it exists cannot be told)
 *   createjslink   the order is created, and the signed answer's cashier_url is a javascript: link
 */

/** What a creation with a request_no the sandbox already has answers: SparkPay's answer is UNKNOWN. */
export const DUPLICATE_CREATE_REFUSAL = { status: 400, code: 40013, message: "request_no already exists" };
export const CREATE_FAULTS = ["createlost", "createdrop", "createunknown", "createjslink"];
/** Queries that fail after a `createunknown` creation: more than a query's attempts. */
const UNKNOWN_QUERIES = 3;

/** @param {string} requestNo */
export function createFaultOf(requestNo) {
  const match = /^FAULT_([A-Z]+)_/i.exec(requestNo);
  const name = match?.[1]?.toLowerCase();
  return name && CREATE_FAULTS.includes(name) ? name : null;
}

/** The fields of a creation the sandbox keeps on the order (and shows in queries). */
const KEPT_FIELDS = [
  "merchant_order_no",
  "total_amount",
  "merchant_order_currency",
  "merchant_order_desc",
  "goods_info",
  "merchant_order_time",
  "merchant_order_timeout",
];

/**
 * @param {{
 *   orders: ReturnType<typeof import("./orders.mjs").createOrders>,
 *   merchants: Set<string>,
 *   responder: import("./responses.mjs").Responder,
 *   stats: { creations: number, duplicate_creations: number },
 * }} parts
 */
export function createCreations({ orders, merchants, responder, stats }) {
  const { answer, refuse, drop } = responder;

  /**
   * @param {string} body @param {{ body_keys: string[], fault: string | null }} record
   * @param {"standard" | "pro"} edition @param {(order: import("./orders.mjs").Order) => string} cashierUrlOf
   */
  function create(body, record, edition, cashierUrlOf) {
    /** @type {any} */
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      return refuse(400, 40009, "body is not JSON");
    }
    if (!input || typeof input !== "object" || Array.isArray(input)) return refuse(400, 40009, "body is not an object");
    record.body_keys = Object.keys(input);
    const { merchant_no: merchantNo, request_no: requestNo } = input;
    if (typeof merchantNo !== "string" || !merchantNo) return refuse(400, 40003, "merchant_no is required");
    if (typeof requestNo !== "string" || !requestNo) return refuse(400, 40003, "request_no is required");
    if (!merchants.has(merchantNo)) return refuse(400, 40008, "merchant number does not exist");
    if (orders.find(merchantNo, requestNo)) {
      stats.duplicate_creations++; // SparkPay asked twice to create one order: what the gateway must never do
      const { status, code, message } = DUPLICATE_CREATE_REFUSAL;
      return refuse(status, code, message);
    }
    const fault = createFaultOf(requestNo);
    record.fault = fault;
    if (fault === "createdrop") return drop();
    const order = orders.findOrCreate(merchantNo, requestNo);
    for (const field of KEPT_FIELDS) if (input[field] !== undefined) Object.assign(order, { [field]: input[field] });
    order.edition = edition;
    if (typeof input.notify_url === "string") order.notify_url = input.notify_url;
    if (typeof input.redirect_url === "string") order.redirect_url = input.redirect_url;
    if (fault === "createunknown") order.failing_queries = UNKNOWN_QUERIES;
    stats.creations++;
    if (fault === "createlost" || fault === "createunknown") return drop();
    const data = {
      cashier_url: fault === "createjslink" ? "javascript:alert(document.cookie)" : cashierUrlOf(order),
      request_no: order.request_no,
      merchant_no: order.merchant_no,
      payment_order_no: order.payment_order_no,
    };
    return answer(200, { code: 0, message: "success", data });
  }

  return { create };
}

// @ts-check
/**
 * SparkPay's orders in memory, the two operations the gateway calls (close, query), the fault table applied to
 * closes (see faults.mjs), and an order's life: paid (now, at a given time, or after its close: a late payment, as a
 * crypto checkout allows) or expired.
 */
import { randomBytes } from "node:crypto";
import { faultOf } from "./faults.mjs";

/**
 * The sandbox's word for a paid order. SparkPay documents no pay_status but CLOSED, so this is a GUESS (WeChat Pay's
 * trade_state says SUCCESS); the gateway passes any value through, so nothing depends on it but the sandbox.
 */
export const PAID_STATUS = "SUCCESS";
export const EXPIRED_STATUS = "EXPIRED";

/**
 * What the sandbox answers to a close of a paid or expired order, since what SparkPay answers is UNKNOWN: by default
 * HTTP 400 with the code after 40011. Changed at run time with PUT /__sandbox/settings.
 * @typedef {{ status: number, code: number | string, message: string }} Refusal
 */
export const DEFAULT_CLOSE_REFUSALS = {
  [PAID_STATUS]: { status: 400, code: 40012, message: "order has been paid" },
  [EXPIRED_STATUS]: { status: 400, code: 40012, message: "order has expired" },
};

/**
 * @typedef {object} Order
 * @property {string} merchant_no
 * @property {string} request_no
 * @property {string} merchant_order_no
 * @property {string} payment_order_no
 * @property {string} pay_status PAYING, CLOSED, or the sandbox's PAID_STATUS or EXPIRED_STATUS
 * @property {number} order_time
 * @property {number | null} closed_time
 * @property {number | null} pay_time
 * @property {boolean} paid_after_close Ground truth for the soak: the payment arrived after the order was closed.
 * @property {number} [pay_on_query] Paid once this many more queries have answered (the `latepay` fault).
 * @property {Refusal} [close_refusal] This order's answer to a close once paid or expired (else the settings').
 * @property {"standard" | "pro"} [edition] Set when the order was created (creations.mjs), not by a close or a control.
 * @property {string} [notify_url] Where its notifications go (its creation's notify_url).
 * @property {string} [redirect_url] Where the checkout page sends the customer after paying.
 * @property {number} [failing_queries] Queries still to answer HTTP 503 (the `createunknown` fault).
 * @property {string} [total_amount] From its creation, as are the fields below (creations.mjs keeps them).
 * @property {string} [merchant_order_currency]
 * @property {string} [merchant_order_desc]
 * @property {string} [goods_info]
 */

/** What SparkPay shows of an order (queries, notifications): everything but the sandbox's own bookkeeping. */
/** @param {Order} order @returns {Omit<Order, "paid_after_close" | "pay_on_query" | "close_refusal" | "edition" | "notify_url" | "redirect_url" | "failing_queries">} */
export function shownOf(order) {
  const {
    paid_after_close: _truth,
    pay_on_query: _later,
    close_refusal: _refusal,
    edition: _edition,
    notify_url: _notify,
    redirect_url: _redirect,
    failing_queries: _failing,
    ...shown
  } = order;
  return shown;
}

/**
 * @param {{
 *   merchants: Set<string>,
 *   responder: import("./responses.mjs").Responder,
 *   slowMs: number,
 *   now: () => number,
 *   stats: { closes: number, queries: number },
 *   onChange?: (order: Order) => void,
 * }} options
 */
export function createOrders({ merchants, responder, slowMs, now, stats, onChange = () => {} }) {
  const { answer, refuse, drop, flood, gzipBomb } = responder;
  /** @type {Map<string, Order>} */
  const orders = new Map();
  /** @type {Map<string, number>} close attempts per order, for faults that change over attempts */
  const closeAttempts = new Map();
  /** @type {Map<string, Response>} an answer per order, for the replay fault (a clone is sent each time) */
  const rememberedAnswers = new Map();
  const settings = {
    /** @type {Record<string, Refusal>} */
    closeRefusals: { ...DEFAULT_CLOSE_REFUSALS },
    /** Whether a payment to a closed or expired order goes through (the order then shows PAID_STATUS). */
    latePayments: true,
  };
  const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** SparkPay treats request_no case-insensitively. */
  const orderKey = (/** @type {string} */ merchantNo, /** @type {string} */ requestNo) =>
    `${merchantNo}/${requestNo.toLowerCase()}`;

  /** @param {string} merchantNo @param {string} requestNo */
  function findOrCreate(merchantNo, requestNo) {
    const key = orderKey(merchantNo, requestNo);
    let order = orders.get(key);
    if (!order) {
      order = {
        merchant_no: merchantNo,
        request_no: requestNo,
        merchant_order_no: `MO_${requestNo}`,
        payment_order_no: `PO${randomBytes(8).toString("hex")}`,
        pay_status: "PAYING",
        order_time: Math.floor(now() / 1000),
        closed_time: null,
        pay_time: null,
        paid_after_close: false,
      };
      orders.set(key, order);
    }
    return order;
  }

  /** @param {string} body @param {{ body_keys: string[], fault: string | null }} record */
  async function close(body, record) {
    /** @type {any} */
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      return refuse(400, 40009, "body is not JSON");
    }
    record.body_keys = input && typeof input === "object" ? Object.keys(input) : [];
    const { request_no: requestNo, merchant_no: merchantNo } = input ?? {};
    if (typeof requestNo !== "string" || !requestNo) return refuse(400, 40003, "request_no is required");
    if (typeof merchantNo !== "string" || !merchantNo) return refuse(400, 40003, "merchant_no is required");
    if (!merchants.has(merchantNo)) return refuse(400, 40008, "merchant number does not exist");
    const fault = faultOf(requestNo, slowMs);
    record.fault = fault?.name ?? null;
    const key = orderKey(merchantNo, requestNo);
    const attempt = (closeAttempts.get(key) ?? 0) + 1;
    closeAttempts.set(key, attempt);
    const closeData = (/** @type {Order} */ order) => ({
      request_no: order.request_no,
      merchant_no: order.merchant_no,
      merchant_order_no: order.merchant_order_no,
    });
    const remembered = {
      get: () => rememberedAnswers.get(key)?.clone(),
      set: (/** @type {Response} */ response) => void rememberedAnswers.set(key, response.clone()),
    };
    const openOrder = () => closeData(findOrCreate(merchantNo, requestNo));
    const payNow = () => void pay(findOrCreate(merchantNo, requestNo));
    const payOnQuery = (/** @type {number} */ queries) =>
      void Object.assign(findOrCreate(merchantNo, requestNo), { pay_on_query: queries });
    const common = { answer, refuse, drop, flood, gzipBomb, sleep, now, openOrder, remembered, payNow, payOnQuery };
    const tools = { ...common, attempt, ms: fault?.ms ?? 0, success: undefined };
    const early = await fault?.mode.before?.(tools);
    if (early) return early;

    const order = findOrCreate(merchantNo, requestNo);
    if (order.pay_status === "CLOSED") return refuse(400, 40009, "order is already closed");
    const refusal =
      order.pay_status === "PAYING"
        ? undefined
        : (order.close_refusal ?? settings.closeRefusals[order.pay_status] ?? settings.closeRefusals[PAID_STATUS]);
    if (refusal) return refuse(refusal.status, /** @type {number} */ (refusal.code), refusal.message);
    order.pay_status = "CLOSED";
    order.closed_time = Math.floor(now() / 1000);
    stats.closes++;
    onChange(order);
    const success = { code: 0, message: "success", data: closeData(order) };
    return (await fault?.mode.after?.({ ...tools, success })) ?? answer(200, success);
  }

  /**
   * Payment Order Query; the Pro edition's names the merchant `merchant_customer_no` (as its page does) and adds the
   * pricing fields. @param {string} merchantNo @param {string} requestNo @param {"standard" | "pro"} [edition]
   */
  function query(merchantNo, requestNo, edition = "standard") {
    stats.queries++;
    if (!merchants.has(merchantNo)) return refuse(400, 40008, "merchant number does not exist");
    const order = orders.get(orderKey(merchantNo, requestNo));
    if (!order) return refuse(400, 40009, "order does not exist");
    if (order.failing_queries !== undefined && order.failing_queries > 0) {
      order.failing_queries--;
      return refuse(503, 50300, "service unavailable");
    }
    if (order.pay_on_query !== undefined && order.pay_on_query-- <= 0) pay(order);
    const shown = shownOf(order);
    const amount = typeof shown.total_amount === "string" ? shown.total_amount : "10.00";
    const paid = order.pay_status === PAID_STATUS;
    const extra = { total_amount: amount, real_pay_amount: paid ? amount : "0", completed_time: order.pay_time };
    if (edition === "standard") return answer(200, { code: 0, message: "success", data: { ...shown, ...extra } });
    const { merchant_no: customerNo, ...rest } = shown;
    const pricing = { pricing_amount: amount, pricing_currency: shown.merchant_order_currency ?? "USD" };
    return answer(200, {
      code: 0,
      message: "success",
      data: { ...rest, merchant_customer_no: customerNo, ...pricing, completed_time: order.pay_time },
    });
  }

  /**
   * The customer pays: an open order becomes PAID_STATUS; a closed or expired one too when late payments go through
   * (the order keeps its closed_time). `payStatus` is the value the order then shows (PAID_STATUS unless told, e.g. a
   * value the gateway has never seen). Returns whether the payment went through.
   * @param {Order} order @param {string} [payStatus]
   */
  function pay(order, payStatus = PAID_STATUS) {
    delete order.pay_on_query;
    if (order.pay_time !== null) return false;
    if (order.pay_status !== "PAYING" && !settings.latePayments) return false;
    order.paid_after_close = order.pay_status === "CLOSED";
    order.pay_status = payStatus;
    order.pay_time = Math.floor(now() / 1000);
    onChange(order);
    return true;
  }

  /** The order's time runs out: an open order becomes EXPIRED_STATUS. @param {Order} order */
  function expire(order) {
    if (order.pay_status !== "PAYING") return false;
    order.pay_status = EXPIRED_STATUS;
    onChange(order);
    return true;
  }

  /** @param {string} merchantNo @param {string} requestNo */
  const find = (merchantNo, requestNo) => orders.get(orderKey(merchantNo, requestNo));

  return { close, query, find, findOrCreate, pay, expire, settings, orders };
}

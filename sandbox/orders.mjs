// @ts-check
/**
 * SparkPay's orders in memory, the two operations the gateway calls (close, query), and the fault
 * table applied to closes (see faults.mjs).
 */
import { randomBytes } from "node:crypto";
import { faultOf } from "./faults.mjs";

/**
 * @typedef {object} Order
 * @property {string} merchant_no
 * @property {string} request_no
 * @property {string} merchant_order_no
 * @property {string} payment_order_no
 * @property {"PAYING" | "CLOSED"} pay_status
 * @property {number} order_time
 * @property {number | null} closed_time
 */

/**
 * @param {{
 *   merchants: Set<string>,
 *   responder: import("./responses.mjs").Responder,
 *   slowMs: number,
 *   now: () => number,
 *   stats: { closes: number, queries: number },
 * }} options
 */
export function createOrders({ merchants, responder, slowMs, now, stats }) {
  const { answer, refuse, drop, flood, gzipBomb } = responder;
  /** @type {Map<string, Order>} */
  const orders = new Map();
  /** @type {Map<string, number>} close attempts per order, for faults that change over attempts */
  const closeAttempts = new Map();
  /** @type {Map<string, Response>} an answer per order, for the replay fault (a clone is sent each time) */
  const rememberedAnswers = new Map();
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
    const common = { answer, refuse, drop, flood, gzipBomb, sleep, now, openOrder, remembered };
    const tools = { ...common, attempt, ms: fault?.ms ?? 0, success: undefined };
    const early = await fault?.mode.before?.(tools);
    if (early) return early;

    const order = findOrCreate(merchantNo, requestNo);
    if (order.pay_status === "CLOSED") return refuse(400, 40009, "order is already closed");
    order.pay_status = "CLOSED";
    order.closed_time = Math.floor(now() / 1000);
    stats.closes++;
    const success = { code: 0, message: "success", data: closeData(order) };
    return (await fault?.mode.after?.({ ...tools, success })) ?? answer(200, success);
  }

  /** @param {string} merchantNo @param {string} requestNo */
  function query(merchantNo, requestNo) {
    stats.queries++;
    if (!merchants.has(merchantNo)) return refuse(400, 40008, "merchant number does not exist");
    const order = orders.get(orderKey(merchantNo, requestNo));
    if (!order) return refuse(400, 40009, "order does not exist");
    const extra = { total_amount: "10.00", real_pay_amount: "0", pay_time: null, completed_time: null };
    return answer(200, { code: 0, message: "success", data: { ...order, ...extra } });
  }

  /** @param {string} merchantNo @param {string} requestNo */
  const find = (merchantNo, requestNo) => orders.get(orderKey(merchantNo, requestNo));

  return { close, query, find, orders };
}

// @ts-check
import { NOTIFY_FAULTS } from "./notifier.mjs";
/**
 * The sandbox's test and demo controls under /__sandbox/; real SparkPay has nothing here.
 *   POST /__sandbox/sign                 sign a body as SparkPay signs answers (key, skew_s)
 *   GET  /__sandbox/calls                calls received (?request_id= or ?request_id_prefix=)
 *   POST /__sandbox/calls                calls received for {"request_ids": [...]}
 *   GET  /__sandbox/stats                counters
 *   PUT  /__sandbox/apps/{app}/public-key  "upload" a new merchant public key (rotation)
 *   GET  /__sandbox/orders/{merchant}/{request_no}
 *   POST /__sandbox/orders/{merchant}/{request_no}/pay      the customer pays: now, or {"in_ms": N} / {"at_ms": T};
 *        {"pay_status": "…"} the value the order then shows, {"close_refusal": {status, code, message}} what a
 *        close of it then answers
 *   POST /__sandbox/orders/{merchant}/{request_no}/expire   the order's time runs out (PAYING -> EXPIRED)
 *   POST /__sandbox/orders/{merchant}/{request_no}/notify   a notification of the order's state now, {"fault": one
 *        of NOTIFY_FAULTS} to spoil it (tampered, badsign, replay, stale, extra_fields, huge, wrong_key)
 *   GET  /__sandbox/settings, PUT /__sandbox/settings       {"close_refusals": {"<pay_status>": {status, code,
 *        message}}, "late_payments": true|false, "notify": {url, mgf1, sign_in, retry_scale, duplicate_rate,
 *        timeout_ms}}: what a close of a paid or expired order answers, whether a payment after the close goes
 *        through, and where and how notifications are sent
 *   GET  /__sandbox/notifications        the notifier's counters and the outbox (notify.url "outbox": kept for a test)
 *   POST /__sandbox/notifications/{id}   {"status", "text"}: the answer the gateway gave to an outbox notification
 */

/**
 * @param {{
 *   responder: import("./responses.mjs").Responder,
 *   checks: ReturnType<typeof import("./request-checks.mjs").createRequestChecks>,
 *   orders: ReturnType<typeof import("./orders.mjs").createOrders>,
 *   calls: import("./sparkpay-sandbox.mjs").CallRecord[],
 *   stats: Record<string, number>,
 *   notifier: ReturnType<typeof import("./notifier.mjs").createNotifier>,
 * }} parts
 */
export function createControl({ responder, checks, orders, calls, stats, notifier }) {
  const json = (/** @type {unknown} */ value, status = 200) => Response.json(value, { status });

  /** @param {Request} request @param {URL} url */
  return async function control(request, url) {
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[1] === "sign" && request.method === "POST") {
      // Lets tests check the gateway's verifier against an independent signer.
      const {
        body,
        key = "platform",
        skew_s: skewS = 0,
        millis = false,
      } = /** @type {{ body: string, key?: any, skew_s?: number, millis?: boolean }} */ (await request.json());
      if (!responder.isSigner(key) || typeof body !== "string") {
        return json({ error: "body (string) and key (platform|rotated|stranger) expected" }, 400);
      }
      const signed = responder.answer(200, null, { raw: body, key, skewS, millis });
      return json({
        timestamp: signed.headers.get("Sparkpay-Timestamp"),
        nonce: signed.headers.get("Sparkpay-Nonce"),
        signature: signed.headers.get("Sparkpay-Signature"),
      });
    }
    if (parts[1] === "calls" && request.method === "POST") {
      const { request_ids: ids } = /** @type {{ request_ids: string[] }} */ (await request.json());
      const wanted = new Set(ids);
      return json({ calls: calls.filter((call) => call.request_id !== null && wanted.has(call.request_id)) });
    }
    if (parts[1] === "calls") {
      const requestId = url.searchParams.get("request_id");
      const prefix = url.searchParams.get("request_id_prefix");
      const matching = calls.filter(
        (call) =>
          (requestId === null || call.request_id === requestId) &&
          (prefix === null || call.request_id?.startsWith(prefix)),
      );
      return json({ calls: matching });
    }
    if (parts[1] === "stats") return json({ ...stats, orders: orders.orders.size, nonces: checks.nonceCount() });
    if (parts[1] === "apps" && parts[3] === "public-key" && request.method === "PUT") {
      const uploaded = checks.uploadPublicKey(/** @type {string} */ (parts[2]), await request.text());
      return uploaded ? json({ ok: true }) : json({ error: "no such application" }, 404);
    }
    if (parts[1] === "orders" && parts.length === 5 && request.method === "POST") {
      const [merchantNo, requestNo, action] = /** @type {[string, string, string]} */ (parts.slice(2));
      const order = orders.findOrCreate(merchantNo, requestNo);
      if (action === "expire") return json({ expired: orders.expire(order), order });
      if (action === "notify") {
        const text = await request.text();
        const { fault = null } = /** @type {{ fault?: string | null }} */ (text ? JSON.parse(text) : {});
        if (fault !== null && !NOTIFY_FAULTS.includes(fault))
          return json({ error: `fault: one of ${NOTIFY_FAULTS}` }, 400);
        return json({ sent: notifier.notify(order, fault) });
      }
      if (action !== "pay") return json({ error: "unknown order control: pay, expire or notify" }, 404);
      const text = await request.text();
      const options = /** @type {{ in_ms?: number, at_ms?: number, pay_status?: string, close_refusal?: any }} */ (
        text ? JSON.parse(text) : {}
      );
      if (options.close_refusal) order.close_refusal = options.close_refusal;
      const { in_ms: inMs, at_ms: atMs, pay_status: payStatus } = options;
      const delay = typeof atMs === "number" ? atMs - Date.now() : typeof inMs === "number" ? inMs : 0;
      if (delay > 0) {
        setTimeout(() => orders.pay(order, payStatus), delay);
        return json({ paid: false, pays_in_ms: delay, order }, 202);
      }
      return json({ paid: orders.pay(order, payStatus), order });
    }
    if (parts[1] === "settings" && request.method === "PUT") {
      const body = /** @type {{ close_refusals?: Record<string, any>, late_payments?: boolean, notify?: any }} */ (
        await request.json()
      );
      if (body.close_refusals) Object.assign(orders.settings.closeRefusals, body.close_refusals);
      if (typeof body.late_payments === "boolean") orders.settings.latePayments = body.late_payments;
      if (body.notify) Object.assign(notifier.settings, body.notify);
      return json({ ...orders.settings, notify: notifier.settings });
    }
    if (parts[1] === "settings") return json({ ...orders.settings, notify: notifier.settings });
    if (parts[1] === "notifications" && parts.length === 3 && request.method === "POST") {
      const answered = notifier.answer(/** @type {string} */ (parts[2]), await request.json());
      return answered ? json({ ok: true }) : json({ error: "no such notification waiting" }, 404);
    }
    if (parts[1] === "notifications") return json({ stats: notifier.stats, outbox: notifier.pending() });
    if (parts[1] === "orders" && parts.length === 4) {
      const order = orders.find(/** @type {string} */ (parts[2]), /** @type {string} */ (parts[3]));
      return order ? json(order) : json({ error: "no such order" }, 404);
    }
    return json({ error: "unknown sandbox control" }, 404);
  };
}

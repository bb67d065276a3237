// @ts-check
/**
 * The sandbox's checkout page, where a creation's `cashier_url` points: the order and a "Pay" button. Pressing it pays
 * the order (orders.mjs: a late payment too, when the order was closed or expired and late payments go through),
 * which sends SparkPay's notification; the page then shows the order as it is now. Plain HTML, no script.
 *   GET  /__sandbox/cashier/{merchant_no}/{request_no}   the page
 *   POST /__sandbox/cashier/{merchant_no}/{request_no}   pay, then 303 back to the page
 */

export const CASHIER_PATH = "/__sandbox/cashier/";

/** @param {unknown} value */
const escapeHtml = (value) =>
  String(value).replace(
    /[&<>"']/g,
    (character) =>
      /** @type {Record<string, string>} */ ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        character
      ] ?? character,
  );

/** @param {string} origin @param {import("./orders.mjs").Order} order */
export function cashierUrlOf(origin, order) {
  return `${origin}${CASHIER_PATH}${encodeURIComponent(order.merchant_no)}/${encodeURIComponent(order.request_no)}`;
}

/** @param {import("./orders.mjs").Order} order */
function page(order) {
  const open = order.pay_status === "PAYING";
  const amount = [order.total_amount ?? "10.00", order.merchant_order_currency ?? ""].join(" ").trim();
  const after =
    !open && order.redirect_url && /^https?:\/\//.test(order.redirect_url)
      ? `<p><a id="back" href="${escapeHtml(order.redirect_url)}">Back to the merchant</a></p>`
      : "";
  const action = open
    ? `<form method="post"><button id="pay" type="submit">Pay ${escapeHtml(amount)}</button></form>`
    : `<p id="done">${order.pay_time === null ? "This order can no longer be paid." : "Paid. Thank you."}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SparkPay sandbox checkout</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.25rem; } dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; }
dt { color: #555; } button { font: inherit; padding: .6rem 1.4rem; border: 0; border-radius: .4rem;
background: #1f6feb; color: #fff; cursor: pointer; } .note { color: #555; font-size: .875rem; }
</style>
</head>
<body>
<h1>SparkPay sandbox checkout</h1>
<p class="note">A stand-in for SparkPay's checkout page. Nothing here is real money.</p>
<dl>
<dt>Merchant</dt><dd>${escapeHtml(order.merchant_no)}</dd>
<dt>Order</dt><dd id="request-no">${escapeHtml(order.request_no)}</dd>
<dt>Description</dt><dd>${escapeHtml(order.merchant_order_desc ?? order.goods_info ?? "")}</dd>
<dt>Amount</dt><dd id="amount">${escapeHtml(amount)}</dd>
<dt>Status</dt><dd id="status">${escapeHtml(order.pay_status)}</dd>
</dl>
${action}
${after}
</body>
</html>
`;
}

/**
 * @param {{ orders: ReturnType<typeof import("./orders.mjs").createOrders> }} parts
 */
export function createCashierPage({ orders }) {
  /** @param {Request} request @param {URL} url */
  return function cashier(request, url) {
    /** @param {string} part */
    const decoded = (part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return ""; // a malformed %-escape names no order
      }
    };
    const [merchantNo = "", requestNo = ""] = url.pathname.slice(CASHIER_PATH.length).split("/").map(decoded);
    const order = orders.find(merchantNo, requestNo);
    const headers = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" };
    if (!order)
      return new Response("<!doctype html><title>No such order</title><p>No such order.</p>", { status: 404, headers });
    if (request.method === "POST") {
      orders.pay(order);
      return new Response(null, { status: 303, headers: { Location: url.pathname } });
    }
    if (request.method !== "GET")
      return new Response("method not allowed", { status: 405, headers: { Allow: "GET, POST" } });
    return new Response(page(order), { status: 200, headers });
  };
}

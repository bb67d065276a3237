// @ts-check
/**
 * A local SparkPay: an independent implementation of SparkPay's side with node:crypto (it shares
 * no code with src/). It checks every header rule, verifies the merchant's signature, keeps orders
 * in memory, signs its answers with a sandbox platform key, and injects faults on request.
 *
 * Faults are chosen per request, like a card network's magic test numbers: a `request_no` that
 * starts with `FAULT_<MODE>_` (any case) triggers MODE; see FAULT_MODES. `FAULT_SLOW250_` sets
 * the delay of `slow` to 250 ms.
 */
import {
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  generateKeyPairSync,
  randomBytes,
} from "node:crypto";

export const SANDBOX_APP_ID = "sandbox_app_0001";
export const SANDBOX_MERCHANTS = ["M_SANDBOX_001", "M_SANDBOX_002"];
/** Adapters (HTTP server, workerd router) drop the connection when a response carries this header. */
export const DROP_CONNECTION_HEADER = "x-sandbox-drop-connection";

const TIMESTAMP_WINDOW_S = 300;
/**
 * Clearly outside the window: timestamps are whole seconds, so a skew of 301 can read as 300 when
 * a second ticks over between signing and checking. The exact ±301 edge is unit-tested with a clock.
 */
const FAULT_SKEW_S = TIMESTAMP_WINDOW_S + 10;
const MAX_RECORDED_CALLS = 200_000;

export const FAULT_MODES = {
  slow: "answer normally after `slowMs` (default 2000 ms), or after N ms for FAULT_SLOW<N>_",
  http500: "HTTP 500 with {code: 50000}",
  http503: "HTTP 503 with {code: 50300}",
  reset: "drop the connection without closing the order",
  flaky: "HTTP 503 on the first close attempt for the order, then normal",
  worsening: "HTTP 503 on the first close attempt for the order, then drop the connection",
  lost: "close the order, then drop the connection (the answer is lost)",
  notjson: "HTTP 200 with an HTML body (signed)",
  wrongshape: "HTTP 200 whose data lacks merchant_order_no (signed)",
  mismatch: "HTTP 200 for a different request_no (signed)",
  badsig: "HTTP 200 signed with a key that is not the platform key",
  nosig: "HTTP 200 without signature headers",
  stale: "HTTP 200 signed with a timestamp 310 s in the past",
  future: "HTTP 200 signed with a timestamp 310 s in the future",
  rotated: "HTTP 200 signed with the second (rotated-in) platform key",
  bom: "HTTP 200 whose body starts with a UTF-8 byte order mark, signed over the bytes as sent",
  ratelimited: "HTTP 429 with {code: 40011} and Retry-After: 1",
  throttled: "HTTP 429 from a proxy: plain text, Retry-After as an HTTP date 3 s ahead",
  redirect: "HTTP 307 to another path",
};

/**
 * @typedef {object} SandboxOptions
 * @property {string} merchantPublicKey PEM of the public key the merchant "uploaded".
 * @property {string} platformPrivateKey PEM of the sandbox platform private key.
 * @property {string} [rotatedPlatformPrivateKey] A second platform key, used by the `rotated` fault.
 * @property {string} [appId]
 * @property {Record<string, string>} [otherApps] More applications: AppID -> merchant public key PEM.
 * @property {string[]} [merchants]
 * @property {number} [slowMs]
 * @property {() => number} [now] Milliseconds since the epoch.
 */

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
 * @typedef {object} CallRecord
 * @property {string | null} request_id
 * @property {string} method
 * @property {string} path
 * @property {string | null} user_agent
 * @property {string | null} nonce
 * @property {boolean} signature_valid
 * @property {string[]} body_keys
 * @property {string | null} body
 * @property {string | null} fault
 * @property {number} status
 * @property {string | number | null} code
 */

/** @param {SandboxOptions} options */
export function createSandbox(options) {
  /** The public key each application "uploaded"; replaceable at run time to rehearse a key rotation. */
  const apps = new Map(
    Object.entries({ [options.appId ?? SANDBOX_APP_ID]: options.merchantPublicKey, ...options.otherApps }).map(
      ([id, pem]) => [id, createPublicKey(pem)],
    ),
  );
  const merchants = new Set(options.merchants ?? SANDBOX_MERCHANTS);
  const slowMs = options.slowMs ?? 2000;
  const now = options.now ?? Date.now;
  const platformKey = createPrivateKey(options.platformPrivateKey);
  const rotatedKey = options.rotatedPlatformPrivateKey
    ? createPrivateKey(options.rotatedPlatformPrivateKey)
    : platformKey;
  // A key nobody trusts, for the `badsig` fault.
  const strangerKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

  /** @type {Map<string, Order>} */
  const orders = new Map();
  /** @type {Set<string>} */
  const nonces = new Set();
  /** @type {CallRecord[]} */
  const calls = [];
  /** @type {Map<string, number>} close attempts per order, for faults that change over attempts */
  const closeAttempts = new Map();
  const stats = { requests: 0, duplicate_nonces: 0, signature_failures: 0, closes: 0, queries: 0 };

  /** SparkPay treats request_no case-insensitively. */
  const orderKey = (/** @type {string} */ merchantNo, /** @type {string} */ requestNo) =>
    `${merchantNo}/${requestNo.toLowerCase()}`;

  /** @param {string} merchantNo @param {string} requestNo */
  function findOrCreateOrder(merchantNo, requestNo) {
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

  /**
   * A JSON answer, signed over its exact body bytes unless told otherwise.
   * @param {number} status
   * @param {unknown} payload
   * @param {{ key?: import("node:crypto").KeyObject | null, skewS?: number, raw?: string, headers?: Record<string, string> }} [how]
   */
  function answer(status, payload, how = {}) {
    const body = how.raw ?? JSON.stringify(payload);
    const headers = new Headers({
      "Content-Type": how.raw === undefined ? "application/json" : "text/html",
      ...how.headers,
    });
    headers.set("Request-Id", `sbx_${randomBytes(6).toString("hex")}`);
    const key = how.key === undefined ? platformKey : how.key;
    if (key) {
      const timestamp = String(Math.floor(now() / 1000) + (how.skewS ?? 0));
      const nonce = randomBytes(16).toString("hex");
      const signature = createSign("RSA-SHA256")
        .update(`${timestamp}\n${nonce}\n${body}\n`, "utf8")
        .sign(key, "base64");
      headers.set("Sparkpay-Timestamp", timestamp);
      headers.set("Sparkpay-Nonce", nonce);
      headers.set("Sparkpay-Signature", signature);
    }
    return new Response(body, { status, headers });
  }

  /** @param {number} status @param {string | number} code @param {string} message */
  const refuse = (status, code, message) => answer(status, { code, message });

  const dropConnection = () => new Response(null, { status: 204, headers: { [DROP_CONNECTION_HEADER]: "1" } });

  /**
   * Every rule SparkPay states for request headers, then the signature over `ts\nnonce\nbody\n`.
   * @param {Request} request @param {string} body @param {CallRecord} record
   */
  function checkRequest(request, body, record) {
    const header = (/** @type {string} */ name) => request.headers.get(name);
    if (!header("User-Agent")?.trim()) return refuse(400, 40003, "User-Agent is required");
    if (request.method === "POST" && !/^application\/json\s*(;|$)/i.test(header("Content-Type") ?? "")) {
      return refuse(400, 40009, "Content-Type must be application/json");
    }
    for (const name of ["Sparkpay-App-Id", "Sparkpay-Signature", "Sparkpay-Timestamp", "Sparkpay-Nonce"]) {
      if (!header(name)) return refuse(400, 40003, `${name} is required`);
    }
    const merchantPublicKey = apps.get(/** @type {string} */ (header("Sparkpay-App-Id")));
    if (!merchantPublicKey) return refuse(400, 40002, "invalid AppID");
    const timestamp = /** @type {string} */ (header("Sparkpay-Timestamp"));
    const nonce = /** @type {string} */ (header("Sparkpay-Nonce"));
    const signature = /** @type {string} */ (header("Sparkpay-Signature"));
    if (!/^\d{10}$/.test(timestamp) || Math.abs(Number(timestamp) - now() / 1000) > TIMESTAMP_WINDOW_S) {
      return refuse(400, 40000, "Sparkpay-Timestamp is not Unix seconds within 300 s of now");
    }
    record.signature_valid = createVerify("RSA-SHA256")
      .update(`${timestamp}\n${nonce}\n${body}\n`, "utf8")
      .verify(merchantPublicKey, signature, "base64");
    if (!record.signature_valid) {
      stats.signature_failures++;
      return refuse(400, 40000, "request signature check failed");
    }
    if (nonces.has(nonce)) {
      stats.duplicate_nonces++;
      return refuse(400, 40000, "Sparkpay-Nonce was already used");
    }
    nonces.add(nonce);
    return undefined;
  }

  /** @param {string} requestNo @returns {{ mode: string | null, ms: number }} */
  function faultOf(requestNo) {
    const name = /^fault_([a-z0-9]+)_/i.exec(requestNo)?.[1]?.toLowerCase() ?? "";
    if (name in FAULT_MODES) return { mode: name, ms: slowMs };
    const slow = /^slow(\d{1,6})$/.exec(name);
    return slow ? { mode: "slow", ms: Number(slow[1]) } : { mode: null, ms: 0 };
  }

  /** @param {Order} order */
  const closeData = (order) => ({
    request_no: order.request_no,
    merchant_no: order.merchant_no,
    merchant_order_no: order.merchant_order_no,
  });

  /** @param {string} body @param {CallRecord} record */
  async function closeOrder(body, record) {
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
    const { mode: fault, ms } = faultOf(requestNo);
    record.fault = fault;
    const attempt = (closeAttempts.get(orderKey(merchantNo, requestNo)) ?? 0) + 1;
    closeAttempts.set(orderKey(merchantNo, requestNo), attempt);
    switch (fault) {
      case "slow":
        await new Promise((resolve) => setTimeout(resolve, ms));
        break;
      case "flaky":
        if (attempt === 1) return refuse(503, 50300, "service unavailable");
        break;
      case "worsening":
        return attempt === 1 ? refuse(503, 50300, "service unavailable") : dropConnection();
      case "http500":
        return refuse(500, 50000, "internal server error");
      case "http503":
        return refuse(503, 50300, "service unavailable");
      case "reset":
        return dropConnection();
      case "ratelimited":
        return answer(
          429,
          { code: 40011, message: "application call limit exceeded" },
          { headers: { "Retry-After": "1" } },
        );
      case "throttled":
        return new Response("Too Many Requests", {
          status: 429,
          headers: { "Retry-After": new Date(now() + 3_000).toUTCString() },
        });
      case "redirect":
        return new Response(null, { status: 307, headers: { Location: "/v4/pay/orders/close_elsewhere" } });
    }
    const order = findOrCreateOrder(merchantNo, requestNo);
    if (order.pay_status === "CLOSED") return refuse(400, 40009, "order is already closed");
    order.pay_status = "CLOSED";
    order.closed_time = Math.floor(now() / 1000);
    stats.closes++;
    const success = { code: 0, message: "success", data: closeData(order) };
    switch (fault) {
      case "lost":
        return dropConnection();
      case "notjson":
        return answer(200, null, { raw: "<html><body>502 Bad Gateway</body></html>" });
      case "wrongshape":
        return answer(200, {
          code: 0,
          message: "success",
          data: { request_no: order.request_no, merchant_no: order.merchant_no },
        });
      case "mismatch":
        return answer(200, { ...success, data: { ...success.data, request_no: `${order.request_no}_OTHER` } });
      case "badsig":
        return answer(200, success, { key: strangerKey });
      case "nosig":
        return answer(200, success, { key: null });
      case "stale":
        return answer(200, success, { skewS: -FAULT_SKEW_S });
      case "future":
        return answer(200, success, { skewS: FAULT_SKEW_S });
      case "rotated":
        return answer(200, success, { key: rotatedKey });
      case "bom":
        return answer(200, null, {
          raw: `\uFEFF${JSON.stringify(success)}`,
          headers: { "Content-Type": "application/json" },
        });
      default:
        return answer(200, success);
    }
  }

  /** @param {string} merchantNo @param {string} requestNo */
  function queryOrder(merchantNo, requestNo) {
    stats.queries++;
    if (!merchants.has(merchantNo)) return refuse(400, 40008, "merchant number does not exist");
    const order = orders.get(orderKey(merchantNo, requestNo));
    if (!order) return refuse(400, 40009, "order does not exist");
    return answer(200, {
      code: 0,
      message: "success",
      data: { ...order, total_amount: "10.00", real_pay_amount: "0", pay_time: null, completed_time: null },
    });
  }

  /**
   * Test and demo controls; real SparkPay has nothing here.
   * @param {Request} request @param {URL} url
   */
  async function control(request, url) {
    const json = (/** @type {unknown} */ value, status = 200) => Response.json(value, { status });
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[1] === "sign" && request.method === "POST") {
      // Signs any body the way SparkPay signs a response, so tests can check the gateway's verifier
      // against an independent signer. key: platform | rotated | stranger; skew_s shifts the timestamp.
      const {
        body,
        key = "platform",
        skew_s: skewS = 0,
      } = /** @type {{ body: string, key?: string, skew_s?: number }} */ (await request.json());
      const signingKey = { platform: platformKey, rotated: rotatedKey, stranger: strangerKey }[key];
      if (!signingKey || typeof body !== "string")
        return json({ error: "body (string) and key (platform|rotated|stranger) expected" }, 400);
      const signed = answer(200, null, { raw: body, key: signingKey, skewS });
      return json({
        timestamp: signed.headers.get("Sparkpay-Timestamp"),
        nonce: signed.headers.get("Sparkpay-Nonce"),
        signature: signed.headers.get("Sparkpay-Signature"),
      });
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
    if (parts[1] === "stats") return json({ ...stats, orders: orders.size, nonces: nonces.size });
    if (parts[1] === "apps" && parts[3] === "public-key" && request.method === "PUT") {
      // "Upload" a new merchant public key for an application, as a merchant does when rotating.
      if (!apps.has(/** @type {string} */ (parts[2]))) return json({ error: "no such application" }, 404);
      apps.set(/** @type {string} */ (parts[2]), createPublicKey(await request.text()));
      return json({ ok: true });
    }
    if (parts[1] === "orders" && parts.length === 4) {
      const order = orders.get(orderKey(/** @type {string} */ (parts[2]), /** @type {string} */ (parts[3])));
      return order ? json(order) : json({ error: "no such order" }, 404);
    }
    return json({ error: "unknown sandbox control" }, 404);
  }

  /**
   * Serves one request, as SparkPay would. Web-standard Request/Response so that the same code
   * runs behind node:http (npm start) and behind Miniflare (tests).
   * @param {Request} request
   * @returns {Promise<Response>}
   */
  async function handle(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__sandbox/")) return control(request, url);
    stats.requests++;
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    /** @type {CallRecord} */
    const record = {
      request_id: request.headers.get("X-Request-Id"),
      method: request.method,
      path: url.pathname,
      user_agent: request.headers.get("User-Agent"),
      nonce: request.headers.get("Sparkpay-Nonce"),
      signature_valid: false,
      body_keys: [],
      body: body || null,
      fault: null,
      status: 0,
      code: null,
    };
    if (calls.length < MAX_RECORDED_CALLS) calls.push(record);
    const response = await route(request, url, body, record);
    record.status = response.status;
    return response;
  }

  /** @param {Request} request @param {URL} url @param {string} body @param {CallRecord} record */
  async function route(request, url, body, record) {
    const query = /^\/v4\/pay\/orders\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const isClose = url.pathname === "/v4/pay/orders/close";
    if (!isClose && !query) return refuse(404, 40400, "not found");
    if (isClose ? request.method !== "POST" : request.method !== "GET") return refuse(405, 40500, "method not allowed");
    const refusal = checkRequest(request, body, record);
    if (refusal) return refusal;
    if (isClose) return closeOrder(body, record);
    return queryOrder(
      decodeURIComponent(/** @type {string} */ (query?.[1])),
      decodeURIComponent(/** @type {string} */ (query?.[2])),
    );
  }

  return { handle, stats, orders };
}

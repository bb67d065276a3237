// @ts-check
/**
 * A local SparkPay: an independent implementation of SparkPay's side with node:crypto (it shares
 * no code with src/). It checks every header rule and the merchant's signature
 * (request-checks.mjs), keeps orders in memory and injects faults (orders.mjs, faults.mjs), signs
 * its answers with a sandbox platform key (responses.mjs), and has test controls (control.mjs).
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { CASHIER_PATH, cashierUrlOf, createCashierPage } from "./cashier-page.mjs";
import { createControl } from "./control.mjs";
import { createCreations } from "./creations.mjs";
import { createNotifier } from "./notifier.mjs";
import { createOrders } from "./orders.mjs";
import { createRequestChecks } from "./request-checks.mjs";
import { createResponder } from "./responses.mjs";

export { CASHIER_PATH } from "./cashier-page.mjs";
export { CREATE_FAULTS, DUPLICATE_CREATE_REFUSAL } from "./creations.mjs";
export { FAULT_MODES } from "./faults.mjs";
export { NOTIFY_FAULTS, RETRY_SCHEDULE_S } from "./notifier.mjs";
export { DEFAULT_CLOSE_REFUSALS, EXPIRED_STATUS, PAID_STATUS } from "./orders.mjs";
export { DROP_CONNECTION_HEADER } from "./responses.mjs";

export const SANDBOX_APP_ID = "sandbox_app_0001";
export const SANDBOX_MERCHANTS = ["M_SANDBOX_001", "M_SANDBOX_002"];
const MAX_RECORDED_CALLS = 200_000;

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
 */

/** @param {SandboxOptions} options */
export function createSandbox(options) {
  const now = options.now ?? Date.now;
  const platformKey = createPrivateKey(options.platformPrivateKey);
  const rotatedKey = options.rotatedPlatformPrivateKey
    ? createPrivateKey(options.rotatedPlatformPrivateKey)
    : platformKey;
  const stats = {
    requests: 0,
    duplicate_nonces: 0,
    signature_failures: 0,
    closes: 0,
    queries: 0,
    creations: 0,
    duplicate_creations: 0,
  };
  /** The public key each application "uploaded"; replaceable at run time to rehearse a key rotation. */
  const apps = new Map(
    Object.entries({ [options.appId ?? SANDBOX_APP_ID]: options.merchantPublicKey, ...options.otherApps }).map(
      ([id, pem]) => [id, createPublicKey(pem)],
    ),
  );
  const responder = createResponder({ platformKey, rotatedKey, now });
  const checks = createRequestChecks({ apps, responder, now, stats });
  const merchants = new Set(options.merchants ?? SANDBOX_MERCHANTS);
  const appId = options.appId ?? SANDBOX_APP_ID;
  const notifier = createNotifier({
    merchantPublicKey: /** @type {import("node:crypto").KeyObject} */ (apps.get(appId)),
    platformKey,
    appId,
    now,
  });
  const orders = createOrders({
    merchants,
    responder,
    slowMs: options.slowMs ?? 2000,
    now,
    stats,
    onChange: (order) => void notifier.notify(order),
  });
  const creations = createCreations({ orders, merchants, responder, stats });
  const cashier = createCashierPage({ orders });
  /** @type {CallRecord[]} */
  const calls = [];
  const control = createControl({ responder, checks, orders, calls, stats, notifier });

  /** @param {Request} request @param {URL} url @param {string} body @param {CallRecord} record */
  async function route(request, url, body, record) {
    const query = /^\/v4\/(pro\/)?pay\/orders\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const isClose = url.pathname === "/v4/pay/orders/close";
    const create = /^\/v4\/(pro\/)?pay\/cashier$/.exec(url.pathname);
    if (!isClose && !query && !create) return responder.refuse(404, 40400, "not found");
    if (query ? request.method !== "GET" : request.method !== "POST") {
      return responder.refuse(405, 40500, "method not allowed");
    }
    const refusal = checks.check(request, body, record);
    if (refusal) return refusal;
    if (isClose) return orders.close(body, record);
    if (create) {
      const origin = url.origin;
      return creations.create(body, record, create[1] ? "pro" : "standard", (order) => cashierUrlOf(origin, order));
    }
    const [merchantNo, requestNo] = [query?.[2], query?.[3]].map((part) => decodeURIComponent(String(part)));
    const edition = query?.[1] ? "pro" : "standard";
    return orders.query(/** @type {string} */ (merchantNo), /** @type {string} */ (requestNo), edition);
  }

  /**
   * Serves one request, as SparkPay would. Web-standard Request/Response so that the same code
   * runs behind node:http (npm start) and behind Miniflare (tests).
   * @param {Request} request
   * @returns {Promise<Response>}
   */
  async function handle(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith(CASHIER_PATH)) return cashier(request, url);
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
    };
    if (calls.length < MAX_RECORDED_CALLS) calls.push(record);
    const response = await route(request, url, body, record);
    record.status = response.status;
    return response;
  }

  return {
    handle,
    stats,
    orders: orders.orders,
    /** The customer pays the order now; whether the payment went through. @param {string} merchantNo @param {string} requestNo */
    pay: (merchantNo, requestNo) => orders.pay(orders.findOrCreate(merchantNo, requestNo)),
    settings: orders.settings,
    notifier,
  };
}

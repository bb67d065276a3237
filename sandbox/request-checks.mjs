// @ts-check
/**
 * Every rule SparkPay states for request headers, then the merchant's signature over
 * `ts\nnonce\nbody\n` and the nonce's freshness. An independent implementation with node:crypto.
 */
import { createPublicKey, createVerify } from "node:crypto";

export const TIMESTAMP_WINDOW_S = 300;

/**
 * @param {{
 *   apps: Map<string, import("node:crypto").KeyObject>,
 *   responder: import("./responses.mjs").Responder,
 *   now: () => number,
 *   stats: { duplicate_nonces: number, signature_failures: number },
 * }} options
 */
export function createRequestChecks({ apps, responder, now, stats }) {
  const { refuse } = responder;
  /** @type {Set<string>} */
  const nonces = new Set();

  /**
   * A refusal, or undefined when the request may go on.
   * @param {Request} request @param {string} body @param {{ signature_valid: boolean }} record
   */
  function check(request, body, record) {
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

  /** "Upload" a new merchant public key for an application, as a merchant does when rotating. */
  function uploadPublicKey(/** @type {string} */ appId, /** @type {string} */ pem) {
    if (!apps.has(appId)) return false;
    apps.set(appId, createPublicKey(pem));
    return true;
  }

  return { check, uploadPublicKey, nonceCount: () => nonces.size };
}

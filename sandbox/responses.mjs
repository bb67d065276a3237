// @ts-check
/**
 * How the sandbox answers: JSON signed the way SparkPay signs (GUESS: WeChat Pay v3 layout,
 * `<timestamp>\n<nonce>\n<body>\n`, SHA256withRSA, headers Sparkpay-Timestamp/-Nonce/-Signature),
 * refusals, and dropped connections.
 */
import { createSign, generateKeyPairSync, randomBytes } from "node:crypto";

/** Adapters (HTTP server, workerd router) drop the connection when a response carries this header. */
export const DROP_CONNECTION_HEADER = "x-sandbox-drop-connection";

/**
 * @param {{
 *   platformKey: import("node:crypto").KeyObject,
 *   rotatedKey: import("node:crypto").KeyObject,
 *   now: () => number,
 * }} keys
 */
export function createResponder({ platformKey, rotatedKey, now }) {
  // A key nobody trusts, for the `badsig` fault.
  const strangerKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const signers = { platform: platformKey, rotated: rotatedKey, stranger: strangerKey };

  /**
   * A JSON answer, signed over its exact body bytes unless told otherwise.
   * @param {number} status
   * @param {unknown} payload
   * @param {import("./faults.mjs").AnswerOptions} [how]
   */
  function answer(status, payload, how = {}) {
    const body = how.raw ?? JSON.stringify(payload);
    const headers = new Headers({ "Content-Type": how.contentType ?? "application/json", ...how.headers });
    headers.set("Request-Id", `sbx_${randomBytes(6).toString("hex")}`);
    const key = how.key === null ? null : signers[how.key ?? "platform"];
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

  return {
    answer,
    /** @param {number} status @param {string | number} code @param {string} message */
    refuse: (status, code, message) => answer(status, { code, message }),
    drop: () => new Response(null, { status: 204, headers: { [DROP_CONNECTION_HEADER]: "1" } }),
    /** @param {string} name */
    isSigner: (name) => name in signers,
  };
}

/** @typedef {ReturnType<typeof createResponder>} Responder */

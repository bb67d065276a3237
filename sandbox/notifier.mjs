// @ts-check
/**
 * SparkPay's asynchronous notifications, as its docs describe them: on each change of an order's state (paid, closed,
 * expired) a POST of `{"head": {"charset", "aes_key", "app_id", "sign"}, "body"}` to the notify URL. The JSON is
 * signed with the platform key (SHA256withRSA, Base64), encrypted with AES-256-CBC under a fresh 32-character key
 * (IV: its first 16 characters), and that key RSA-OAEP-encrypted (SHA-256) to the merchant's public key, with MGF1
 * SHA-256 or SHA-1 (what Java's default does) as set. An answer other than HTTP 200 `SUCCESS` is retried after 10 s,
 * 1 m, 5 m, 10 m, 30 m, 1 h, 2 h (times `retry_scale`). node:crypto only; nothing is shared with src/.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createSign,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  randomInt,
} from "node:crypto";
import { shownOf } from "./orders.mjs";

export const RETRY_SCHEDULE_S = [10, 60, 300, 600, 1800, 3600, 7200];
/** One-shot faults for a notification (POST /__sandbox/orders/{m}/{r}/notify {"fault": …}). */
export const NOTIFY_FAULTS = ["tampered", "badsign", "replay", "stale", "extra_fields", "huge", "wrong_key"];
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HUGE_BYTES = 256 * 1024;

/** MGF1 (RFC 8017 B.2.1) with `hash`. @param {string} hash @param {Buffer} seed @param {number} length */
function mgf1(hash, seed, length) {
  const blocks = [];
  const hLen = createHash(hash).digest().length;
  for (let counter = 0; blocks.length * hLen < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * RSAES-OAEP encryption with SHA-256 as the OAEP hash and MGF1-SHA-1 (RFC 8017 7.1.1), which node:crypto's oaepHash
 * cannot express (it sets both): EME-OAEP encoding by hand, then raw RSA.
 * @param {import("node:crypto").KeyObject} publicKey @param {Buffer} message
 */
function oaepSha256Mgf1Sha1(publicKey, message) {
  const k = (publicKey.asymmetricKeyDetails?.modulusLength ?? 2048) / 8;
  const hLen = 32;
  const lHash = createHash("sha256").digest();
  const db = Buffer.concat([lHash, Buffer.alloc(k - message.length - 2 * hLen - 2), Buffer.from([1]), message]);
  const seed = randomBytes(hLen);
  const dbMask = mgf1("sha1", seed, db.length);
  const maskedDb = Buffer.from(db.map((byte, i) => byte ^ /** @type {number} */ (dbMask[i])));
  const seedMask = mgf1("sha1", maskedDb, hLen);
  const maskedSeed = Buffer.from(seed.map((byte, i) => byte ^ /** @type {number} */ (seedMask[i])));
  const encoded = Buffer.concat([Buffer.from([0]), maskedSeed, maskedDb]);
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, encoded);
}

/**
 * @param {{
 *   merchantPublicKey: import("node:crypto").KeyObject,
 *   platformKey: import("node:crypto").KeyObject,
 *   appId: string,
 *   now: () => number,
 * }} options
 */
export function createNotifier({ merchantPublicKey, platformKey, appId, now }) {
  const settings = {
    /** Where notifications go: a URL, "outbox" (kept for a test to fetch and answer), or null (none sent). */
    url: /** @type {string | null} */ (null),
    /** MGF1's hash in the aes_key's RSA-OAEP: "SHA-256" (Web Crypto's) or "SHA-1" (Java's default). */
    mgf1: "SHA-256",
    /** Where `sign` goes: in head, or at the top level (SparkPay's docs do not say). */
    sign_in: "head",
    /** The retry schedule is multiplied by this (tests and the soak compress it). */
    retry_scale: 1,
    /** How often a notification answered SUCCESS is sent once more anyway (SparkPay lost the answer). */
    duplicate_rate: 0,
    timeout_ms: 10_000,
  };
  const stats = {
    notifications: 0,
    posts: 0,
    success: 0,
    refused: 0,
    retries: 0,
    given_up: 0,
    duplicates: 0,
    /** HTTP status of each answer (0: none) -> how many. */
    statuses: /** @type {Record<string, number>} */ ({}),
  };
  /** Each order's notifications so far (their plaintexts and last envelope), for the replay and stale faults. */
  /** @type {Map<string, { plaintexts: string[], envelope?: string }>} */
  const sent = new Map();
  /** @type {Map<string, { id: string, request_no: string, attempt: number, body: string, answer: (a: { status: number, text: string }) => void }>} */
  const outbox = new Map();
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

  /** @param {string} plaintext @param {string | null} fault */
  function envelope(plaintext, fault) {
    const aesKey = Array.from({ length: 32 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");
    const keyBytes = Buffer.from(aesKey, "ascii");
    const cipher = createCipheriv("aes-256-cbc", keyBytes, keyBytes.subarray(0, 16));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    if (fault === "tampered") body[body.length - 1] = /** @type {number} */ (body[body.length - 1]) ^ 0x01;
    const recipient = fault === "wrong_key" ? stranger.publicKey : merchantPublicKey;
    const encryptedKey =
      settings.mgf1 === "SHA-1"
        ? oaepSha256Mgf1Sha1(recipient, keyBytes)
        : publicEncrypt({ key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, keyBytes);
    const signer = fault === "badsign" ? stranger.privateKey : platformKey;
    const sign = createSign("RSA-SHA256").update(plaintext, "utf8").sign(signer, "base64");
    const head = { charset: "UTF-8", aes_key: encryptedKey.toString("base64"), app_id: appId };
    const signed =
      settings.sign_in === "top"
        ? { head, body: body.toString("base64"), sign }
        : { head: { ...head, sign }, body: body.toString("base64") };
    return JSON.stringify(signed);
  }

  /** @param {string} requestNo @param {string} body @param {number} attempt @param {string} url */
  async function post(requestNo, body, attempt, url) {
    stats.posts++;
    if (url === "outbox") {
      const id = randomBytes(8).toString("hex");
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          outbox.delete(id);
          resolve({ status: 0, text: "" });
        }, settings.timeout_ms);
        timer.unref(); // a notification nobody answers never keeps the process alive
        outbox.set(id, {
          id,
          request_no: requestNo,
          attempt,
          body,
          answer: (answer) => {
            clearTimeout(timer);
            outbox.delete(id);
            resolve(answer);
          },
        });
      });
    }
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "User-Agent": "SparkPay-Sandbox-Notifier" },
        body,
        signal: AbortSignal.timeout(settings.timeout_ms),
      });
      return { status: response.status, text: await response.text() };
    } catch {
      return { status: 0, text: "" };
    }
  }

  /**
   * Sends one envelope, then again on SparkPay's schedule until SUCCESS.
   * @param {string} requestNo @param {string} body @param {string} url
   */
  async function deliver(requestNo, body, url) {
    for (let attempt = 0; attempt <= RETRY_SCHEDULE_S.length; attempt++) {
      if (attempt > 0) {
        stats.retries++;
        const pause = /** @type {number} */ (RETRY_SCHEDULE_S[attempt - 1]) * 1000 * settings.retry_scale;
        await new Promise((resolve) => setTimeout(resolve, pause).unref());
      }
      const { status, text } = await post(requestNo, body, attempt, url);
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      if (status === 200 && text === "SUCCESS") {
        stats.success++;
        if (settings.duplicate_rate > 0 && Math.random() < settings.duplicate_rate) {
          stats.duplicates++;
          const again = await post(requestNo, body, attempt + 1, url);
          stats.statuses[again.status] = (stats.statuses[again.status] ?? 0) + 1;
        }
        return;
      }
      stats.refused++;
    }
    stats.given_up++;
  }

  /**
   * The order changed (or a test asks for a notification of it, with a fault): builds and sends the notification of
   * its state now. @param {import("./orders.mjs").Order} order @param {string | null} [fault]
   */
  function notify(order, fault = null) {
    // The configured url wins (the local gateway's real address, or a test's outbox); else, as SparkPay, the order's
    // own notify_url from its creation; else none.
    const url = settings.url ?? order.notify_url ?? null;
    if (url === null) return false;
    const key = `${order.merchant_no}/${order.request_no.toLowerCase()}`;
    const past = sent.get(key) ?? { plaintexts: [] };
    sent.set(key, past);
    if (fault === "replay" && past.envelope) {
      void deliver(order.request_no, past.envelope, url);
      return true;
    }
    const shown = shownOf(order);
    let plaintext = JSON.stringify({ ...shown, notify_time: Math.floor(now() / 1000) });
    if (fault === "stale" && past.plaintexts.length > 0) plaintext = /** @type {string} */ (past.plaintexts[0]);
    if (fault === "extra_fields")
      plaintext = JSON.stringify({
        ...JSON.parse(plaintext),
        sparkpay_new_field: { nested: [1, "two"] },
        risk_level: "LOW",
      });
    if (fault === "huge") plaintext = JSON.stringify({ ...JSON.parse(plaintext), padding: "x".repeat(HUGE_BYTES) });
    if (fault === null) past.plaintexts.push(plaintext);
    const body = envelope(plaintext, fault);
    if (fault === null) past.envelope = body;
    stats.notifications++;
    void deliver(order.request_no, body, url);
    return true;
  }

  /** The outbox's notifications waiting for an answer (the test posts them to the gateway and answers). */
  const pending = () =>
    [...outbox.values()].map(({ id, request_no, attempt, body }) => ({ id, request_no, attempt, body }));
  /** @param {string} id @param {{ status: number, text: string }} answer */
  const answer = (id, answer) => {
    const waiting = outbox.get(id);
    if (!waiting) return false;
    waiting.answer(answer);
    return true;
  };

  return { settings, stats, notify, pending, answer };
}

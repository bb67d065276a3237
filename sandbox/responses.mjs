// @ts-check
/**
 * How the sandbox answers: JSON signed the way SparkPay signs (GUESS: WeChat Pay v3 layout,
 * `<timestamp>\n<nonce>\n<body>\n`, SHA256withRSA, headers Sparkpay-Timestamp/-Nonce/-Signature),
 * refusals, and dropped connections.
 */
import { createSign, generateKeyPairSync, randomBytes } from "node:crypto";
import { createGzip } from "node:zlib";

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
  // Built now, in the background (about a second of gzip), so the first gzipbomb answer is not slow.
  void gzipBombBytes();

  /**
   * A JSON answer, signed over its exact body bytes unless told otherwise.
   * @param {number} status
   * @param {unknown} payload
   * @param {import("./faults.mjs").AnswerOptions} [how]
   */
  function answer(status, payload, how = {}) {
    const body = how.raw ?? JSON.stringify(payload);
    const headers = new Headers({ "Content-Type": how.contentType ?? "application/json", ...how.headers });
    if (!headers.has("Request-Id")) headers.set("Request-Id", `sbx_${randomBytes(6).toString("hex")}`);
    const key = how.key === null ? null : signers[how.key ?? "platform"];
    if (key) {
      const nowMs = now() + (how.skewS ?? 0) * 1000;
      const timestamp = String(how.millis ? Math.floor(nowMs) : Math.floor(nowMs / 1000));
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
    flood,
    gzipBomb: async () =>
      new Response(new Uint8Array(await gzipBombBytes()), {
        status: 200,
        headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
      }),
    /** @param {number} status @param {string | number} code @param {string} message */
    refuse: (status, code, message) => answer(status, { code, message }),
    drop: () => new Response(null, { status: 204, headers: { [DROP_CONNECTION_HEADER]: "1" } }),
    /** @param {string} name */
    isSigner: (name) => name in signers,
  };
}

/**
 * A body of `bytes` bytes (spaces), made chunk by chunk as the reader pulls it, so a 100 MB answer
 * costs the sandbox nothing when the reader stops early.
 * @param {number} status @param {number} bytes
 */
function flood(status, bytes) {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let left = bytes;
  const body = new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      controller.enqueue(part);
    },
  });
  return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

const BOMB_INFLATED_BYTES = 256 * 1024 * 1024;
/** @type {Promise<Buffer> | undefined} */
let bomb;
/** 256 MiB of zeros, gzipped once (about 255 KB) and kept. */
function gzipBombBytes() {
  bomb ??= new Promise((resolve, reject) => {
    const gzip = createGzip({ level: 9 });
    /** @type {Buffer[]} */
    const parts = [];
    gzip.on("data", (part) => parts.push(part));
    gzip.on("end", () => resolve(Buffer.concat(parts)));
    gzip.on("error", reject);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let written = 0; written < BOMB_INFLATED_BYTES; written += zeros.length) gzip.write(zeros);
    gzip.end();
  });
  return bomb;
}

/** @typedef {ReturnType<typeof createResponder>} Responder */

// @ts-check
/**
 * The sandbox's fault modes, one entry each: what the sandbox does to a close request (`before`
 * the order is closed) or to its answer (`after`), and what the gateway must answer with its
 * default settings (3 attempts, close-and-confirm). The sandbox, the soak's expectations and the
 * fault tests all read this table, so adding a mode is one edit.
 *
 * A `request_no` starting with `FAULT_<MODE>_` (any case) triggers MODE; `FAULT_SLOW<N>_` sets the
 * delay of `slow` to N ms. Plain data and functions only (no Node imports): the workerd tests
 * import it too.
 */

/**
 * What a fault may do. `answer` signs with the platform key unless told otherwise.
 * @typedef {object} FaultTools
 * @property {number} attempt Close attempts for this order so far, this one included.
 * @property {number} ms The delay for `slow`.
 * @property {{ code: number, message: string, data: Record<string, string> } | undefined} success
 *   The close's success envelope (in `after` only).
 * @property {(status: number, payload: unknown, how?: AnswerOptions) => Response} answer
 * @property {(status: number, code: number, message: string) => Response} refuse
 * @property {() => Response} drop Drop the connection: the gateway sees a real network failure.
 * @property {(status: number, bytes: number) => Response} flood A body of `bytes` bytes, made as it is read.
 * @property {() => Promise<Response>} gzipBomb HTTP 200, `Content-Encoding: gzip`, ~255 KB inflating to 256 MiB.
 * @property {() => Record<string, string>} openOrder Create the order (unpaid) without closing it;
 *   returns what a close answer says of it (request_no, merchant_no, merchant_order_no).
 * @property {{ get(): Response | undefined, set(response: Response): void }} remembered
 *   The answer this order got last time, kept for replaying.
 * @property {(ms: number) => Promise<void>} sleep
 * @property {() => number} now
 * @property {() => void} payNow The customer pays the order now (creating it if need be).
 * @property {(queries: number) => void} payOnQuery The order is paid once this many more queries have answered.
 */

/**
 * @typedef {object} AnswerOptions
 * @property {"platform" | "rotated" | "stranger" | null} [key] Who signs (null: unsigned).
 * @property {number} [skewS] Shift of the signed timestamp.
 * @property {boolean} [millis] Sign with a 13-digit timestamp in milliseconds.
 * @property {string} [raw] A body sent as is instead of JSON.
 * @property {string} [contentType]
 * @property {Record<string, string>} [headers]
 */

/**
 * What the caller must see: the HTTP status, the envelope's code (errors) or that the 200 came from
 * the confirming query, its message, and the requests SparkPay received (closes, queries).
 * @typedef {object} FaultExpectation
 * @property {number} status
 * @property {string | number} [code]
 * @property {string | RegExp} [message]
 * @property {boolean} [confirmed] A 200 produced by Payment Order Query (X-Close-Confirmed-By).
 * @property {Record<string, string>} [headers] Response headers the caller must see, exactly.
 * @property {number} closes
 * @property {number} queries
 * @property {FaultExpectation} [again] The same close sent again must answer this (e.g. a replay).
 * @property {string} [pay_status] The envelope's `order` (what the confirming query showed) has this pay_status.
 * @property {string | number} [refusal] The envelope's `refusal` (SparkPay's refusal of the close) has this code.
 */

/**
 * @typedef {object} FaultMode
 * @property {string} description
 * @property {(tools: FaultTools) => Promise<Response | undefined> | Response | undefined} [before]
 *   Runs before the order is closed; a Response ends the request there, undefined goes on.
 * @property {(tools: FaultTools) => Response | Promise<Response>} [after] Replaces the success answer of a
 *   closed order.
 * @property {FaultExpectation} expect
 * @property {boolean} [rare] Heavy (100 MB bodies): the soak sends it a few times, not in every round.
 * @property {Record<string, string>} [settings] Gateway settings the expectation holds under (the soak, whose
 *   gateway runs with the defaults, leaves such a mode out).
 */

/** A timestamp clearly outside SparkPay's ±300 s window (whole seconds can tick over in between). */
export const FAULT_SKEW_S = 310;

const retried = (/** @type {string} */ code, /** @type {string} */ message) => ({
  status: 502,
  code,
  message,
  closes: 3,
  queries: 1,
});
const refusedOnce = (
  /** @type {number} */ status,
  /** @type {string | number} */ code,
  /** @type {RegExp} */ message,
) => ({
  status,
  code,
  message,
  closes: 1,
  queries: 0,
});
const closedOnce = { status: 200, closes: 1, queries: 0 };

/** @type {Record<string, FaultMode>} */
export const FAULT_MODES = {
  slow: {
    description: "answer normally after `slowMs` (default 2000 ms), or after N ms for FAULT_SLOW<N>_",
    before: async ({ ms, sleep }) => void (await sleep(ms)),
    expect: closedOnce,
  },
  http500: {
    description: "HTTP 500 with {code: 50000}",
    before: ({ refuse }) => refuse(500, 50000, "internal server error"),
    expect: retried("UPSTREAM_SERVER_ERROR", "SparkPay answered HTTP 500 (3 attempts)."),
  },
  http503: {
    description: "HTTP 503 with {code: 50300}",
    before: ({ refuse }) => refuse(503, 50300, "service unavailable"),
    expect: retried("UPSTREAM_SERVER_ERROR", "SparkPay answered HTTP 503 (3 attempts)."),
  },
  reset: {
    description: "drop the connection without closing the order",
    before: ({ drop }) => drop(),
    expect: retried("UPSTREAM_UNREACHABLE", "SparkPay could not be reached (3 attempts)."),
  },
  flaky: {
    description: "HTTP 503 on the first close attempt for the order, then normal",
    before: ({ attempt, refuse }) => (attempt === 1 ? refuse(503, 50300, "service unavailable") : undefined),
    expect: { status: 200, closes: 2, queries: 0 },
  },
  outage: {
    description:
      "HTTP 503 on the first 5 close attempts for the order (longer than one request's deadline), then normal",
    before: ({ attempt, refuse }) => (attempt <= 5 ? refuse(503, 50300, "service unavailable") : undefined),
    expect: retried("UPSTREAM_SERVER_ERROR", "SparkPay answered HTTP 503 (3 attempts)."),
  },
  worsening: {
    description: "HTTP 503 on the first close attempt for the order, then drop the connection",
    before: ({ attempt, refuse, drop }) => (attempt === 1 ? refuse(503, 50300, "service unavailable") : drop()),
    // The last real error is reported, not the first.
    expect: retried("UPSTREAM_UNREACHABLE", "SparkPay could not be reached (3 attempts)."),
  },
  lost: {
    description: "close the order, then drop the connection (the answer is lost)",
    after: ({ drop }) => drop(),
    // The retry is refused (already closed); the confirming query shows CLOSED.
    expect: { status: 200, confirmed: true, closes: 2, queries: 1 },
  },
  notjson: {
    description: "HTTP 200 with an HTML body (signed)",
    after: ({ answer }) =>
      answer(200, null, { raw: "<html><body>502 Bad Gateway</body></html>", contentType: "text/html" }),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /HTTP 200 with a body that is not JSON/),
  },
  wrongshape: {
    description: "HTTP 200 whose data lacks merchant_order_no (signed)",
    after: ({ answer, success }) => {
      const { request_no, merchant_no } = success?.data ?? {};
      return answer(200, { code: 0, message: "success", data: { request_no, merchant_no } });
    },
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /HTTP 200 with JSON of an unexpected shape/),
  },
  mismatch: {
    description: "HTTP 200 for a different request_no (signed)",
    after: ({ answer, success }) =>
      answer(200, { ...success, data: { ...success?.data, request_no: `${success?.data.request_no}_OTHER` } }),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /different order/),
  },
  badsig: {
    description: "HTTP 200 signed with a key that is not the platform key",
    after: ({ answer, success }) => answer(200, success, { key: "stranger" }),
    expect: refusedOnce(502, "UPSTREAM_SIGNATURE_INVALID", /does not match any configured platform public key/),
  },
  badsigfirst: {
    description: "closes the order, but its first answer is signed with a key that is not the platform key",
    after: ({ attempt, answer, success }) => answer(200, success, attempt === 1 ? { key: "stranger" } : {}),
    // One request: the answer cannot be trusted (a durable close counts it transient and closes in the next round).
    expect: refusedOnce(502, "UPSTREAM_SIGNATURE_INVALID", /does not match any configured platform public key/),
  },
  nosig: {
    description: "HTTP 200 without signature headers",
    after: ({ answer, success }) => answer(200, success, { key: null }),
    expect: refusedOnce(
      502,
      "UPSTREAM_SIGNATURE_INVALID",
      /no Sparkpay-Signature, Sparkpay-Timestamp, Sparkpay-Nonce header/,
    ),
  },
  stale: {
    description: `HTTP 200 signed with a timestamp ${FAULT_SKEW_S} s in the past`,
    after: ({ answer, success }) => answer(200, success, { skewS: -FAULT_SKEW_S }),
    expect: refusedOnce(502, "UPSTREAM_SIGNATURE_INVALID", /31\d s from this gateway's clock/),
  },
  future: {
    description: `HTTP 200 signed with a timestamp ${FAULT_SKEW_S} s in the future`,
    after: ({ answer, success }) => answer(200, success, { skewS: FAULT_SKEW_S }),
    expect: refusedOnce(502, "UPSTREAM_SIGNATURE_INVALID", /(309|310) s from this gateway's clock/),
  },
  rotated: {
    description: "HTTP 200 signed with the second (rotated-in) platform key",
    after: ({ answer, success }) => answer(200, success, { key: "rotated" }),
    expect: closedOnce,
  },
  bom: {
    description: "HTTP 200 whose body starts with a UTF-8 byte order mark, signed over the bytes as sent",
    after: ({ answer, success }) => answer(200, null, { raw: `\uFEFF${JSON.stringify(success)}` }),
    expect: closedOnce,
  },
  ratelimited: {
    description: "HTTP 429 with {code: 40011} and Retry-After: 1",
    before: ({ answer }) =>
      answer(429, { code: 40011, message: "application call limit exceeded" }, { headers: { "Retry-After": "1" } }),
    expect: { ...refusedOnce(429, 40011, /^application call limit exceeded$/), headers: { "retry-after": "1" } },
  },
  farretry: {
    description: "HTTP 429 with {code: 40011} and Retry-After as an HTTP date in the year 9999",
    before: ({ answer }) =>
      answer(
        429,
        { code: 40011, message: "application call limit exceeded" },
        { headers: { "Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT" } },
      ),
    // Passed on, capped at one day.
    expect: { ...refusedOnce(429, 40011, /^application call limit exceeded$/), headers: { "retry-after": "86400" } },
  },
  notclosed: {
    description: "HTTP 200 (signed) whose data says pay_status PAYING, as a replayed query answer would; not closed",
    before: ({ answer, openOrder }) => {
      const data = { ...openOrder(), pay_status: "PAYING" };
      return answer(200, { code: 0, message: "success", data });
    },
    // Settled by the confirming query, which shows the order PAYING: not closed, and said so with the order.
    expect: {
      status: 409,
      code: "ORDER_NOT_CLOSABLE",
      message: /^The order is PAYING, not closed\./,
      pay_status: "PAYING",
      closes: 1,
      queries: 1,
    },
  },
  paybefore: {
    description: "the customer pays just before the close arrives: the close is refused (the paid-order refusal)",
    before: ({ payNow }) => void payNow(),
    expect: {
      status: 409,
      code: "ORDER_NOT_CLOSABLE",
      message: /^The order is SUCCESS, not closed\. SparkPay refused the close \(code 40012\)/,
      pay_status: "SUCCESS",
      refusal: 40012,
      closes: 1,
      queries: 1,
    },
  },
  paylost: {
    description: "the customer pays, and the first close's answer is lost; the retry is refused (paid)",
    before: ({ attempt, payNow, drop }) => {
      if (attempt > 1) return undefined;
      payNow();
      return drop();
    },
    expect: {
      status: 409,
      code: "ORDER_NOT_CLOSABLE",
      message: /^The order is SUCCESS/,
      pay_status: "SUCCESS",
      refusal: 40012,
      closes: 2,
      queries: 1,
    },
  },
  paiddrop: {
    description: "the customer pays, and every close's connection drops (SparkPay never answers the close)",
    before: ({ payNow, drop }) => {
      payNow();
      return drop();
    },
    // No answer to the close at all: its own error stands (it may never have arrived), with the order attached.
    expect: {
      ...retried("UPSTREAM_UNREACHABLE", "SparkPay could not be reached (3 attempts)."),
      pay_status: "SUCCESS",
    },
  },
  paidsuccess: {
    description: "the customer pays just before the close; SparkPay still answers a signed close success",
    before: ({ payNow, answer, openOrder }) => {
      payNow();
      return answer(200, { code: 0, message: "success", data: openOrder() });
    },
    // SPARKPAY_CONFIRM_CLOSES=ambiguous (the default) trusts a signed success and answers 200; `always` (and every
    // durable close) queries after it and finds the order paid.
    settings: { SPARKPAY_CONFIRM_CLOSES: "always" },
    expect: {
      status: 409,
      code: "ORDER_NOT_CLOSABLE",
      message: /^The order is SUCCESS/,
      pay_status: "SUCCESS",
      closes: 1,
      queries: 1,
    },
  },
  latepay: {
    description: "closes normally; the order is paid after its close, seen from the second query after it on",
    after: ({ answer, success, payOnQuery }) => {
      payOnQuery(1);
      return answer(200, success);
    },
    expect: closedOnce,
  },
  lookalike: {
    description: "HTTP 200 (signed) whose request_no has the Kelvin sign (U+212A) for a k",
    after: ({ answer, success }) =>
      answer(200, {
        ...success,
        data: { ...success?.data, request_no: String(success?.data.request_no).replace(/k/i, "\u212A") },
      }),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /different order/),
  },
  replay: {
    description: "closes normally; a second close of the same order gets the first signed answer again, byte for byte",
    before: ({ remembered }) => remembered.get(),
    after: ({ answer, success, remembered }) => {
      const response = answer(200, success);
      remembered.set(response);
      return response;
    },
    expect: { ...closedOnce, again: refusedOnce(502, "UPSTREAM_SIGNATURE_INVALID", /replayed/) },
  },
  millis: {
    description: "HTTP 200 signed with a 13-digit timestamp (milliseconds, as Alipay's v3 answers carry)",
    after: ({ answer, success }) => answer(200, success, { millis: true }),
    expect: closedOnce,
  },
  huge: {
    description: "HTTP 200 with a 100 MB body",
    after: ({ flood }) => flood(200, 100_000_000),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /over 65536 bytes/),
    rare: true,
  },
  hugelength: {
    description: "HTTP 200, signed, whose Content-Length declares 70,000 bytes (a padded answer, read whole)",
    after: ({ answer, success }) =>
      answer(200, { ...success, data: { ...success?.data, padding: " ".repeat(70_000) } }),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /over 65536 bytes/),
  },
  huge5xx: {
    description: "HTTP 503 with a 100 MB body, on every attempt",
    before: ({ flood }) => flood(503, 100_000_000),
    expect: retried("UPSTREAM_SERVER_ERROR", "SparkPay answered HTTP 503 (3 attempts)."),
    rare: true,
  },
  gzipbomb: {
    description: "HTTP 200 with Content-Encoding: gzip, ~255 KB that inflate to 256 MiB",
    after: ({ gzipBomb }) => gzipBomb(),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /over 65536 bytes/),
    rare: true,
  },
  hugecode: {
    description: "HTTP 400 whose code is a 10,000-character string (a 1 MB one is stopped by the byte cap)",
    before: ({ answer }) => answer(400, { code: "E".repeat(10_000), message: "refused" }),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /HTTP 400 with JSON of an unexpected shape/),
  },
  longmessage: {
    description: "HTTP 400 {code: 40004} whose message is 10,000 characters",
    before: ({ answer }) => answer(400, { code: 40004, message: `SparkPay says: ${"no. ".repeat(2_500)}` }),
    // Cut at 512 characters.
    expect: refusedOnce(400, 40004, /^SparkPay says: [no. ]{497}$/),
  },
  http401: {
    description: "HTTP 401 {code: 40100}: SparkPay refused the gateway's own credentials",
    before: ({ refuse }) => refuse(401, 40100, "invalid credentials"),
    // Never a 401 the caller would read as "my key is wrong".
    expect: refusedOnce(502, 40100, /^invalid credentials$/),
  },
  http403: {
    description: "HTTP 403 {code: 40300}: SparkPay refused the gateway's application",
    before: ({ refuse }) => refuse(403, 40300, "application disabled"),
    expect: refusedOnce(502, 40300, /^application disabled$/),
  },
  longid: {
    description: "HTTP 200 whose Request-Id header is 5,000 characters (not logged)",
    after: ({ answer, success }) => answer(200, success, { headers: { "Request-Id": "r".repeat(5_000) } }),
    expect: closedOnce,
  },
  throttled: {
    description: "HTTP 429 from a proxy: plain text, Retry-After as an HTTP date 3 s ahead",
    before: ({ now }) =>
      new Response("Too Many Requests", {
        status: 429,
        headers: { "Retry-After": new Date(now() + 3_000).toUTCString() },
      }),
    expect: refusedOnce(429, "UPSTREAM_RATE_LIMITED", /call limit/),
  },
  redirect: {
    description: "HTTP 307 to another path",
    before: () => new Response(null, { status: 307, headers: { Location: "/v4/pay/orders/close_elsewhere" } }),
    expect: refusedOnce(502, "UPSTREAM_INVALID_RESPONSE", /HTTP 307/),
  },
};

/** @typedef {keyof typeof FAULT_MODES} FaultName */

/**
 * The fault a request_no asks for, with its delay for `slow`.
 * @param {string} requestNo
 * @param {number} slowMs
 * @returns {{ name: string, mode: FaultMode, ms: number } | undefined}
 */
export function faultOf(requestNo, slowMs) {
  const name = /^fault_([a-z0-9]+)_/i.exec(requestNo)?.[1]?.toLowerCase() ?? "";
  const mode = FAULT_MODES[name];
  if (mode) return { name, mode, ms: slowMs };
  const slow = /^slow(\d{1,6})$/.exec(name);
  return slow ? { name: "slow", mode: /** @type {FaultMode} */ (FAULT_MODES.slow), ms: Number(slow[1]) } : undefined;
}

/** The request_no that triggers `name`, followed by `suffix`. @param {string} name @param {string} suffix */
export function faultRequestNo(name, suffix) {
  return `FAULT_${name.toUpperCase()}_${suffix}`;
}

/**
 * Whether a gateway message is the one a fault expects: the exact text, or a match of the pattern.
 * @param {FaultExpectation["message"]} expected @param {unknown} message
 */
export function messageMatches(expected, message) {
  if (expected === undefined) return true;
  return typeof message === "string" && (typeof expected === "string" ? message === expected : expected.test(message));
}

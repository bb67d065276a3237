import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  callGateway,
  closeOrder,
  type ErrorEnvelope,
  MERCHANT,
  type SandboxCall,
  sandboxCalls,
  sandboxOrder,
  uniqueId,
} from "./helpers";

const CLOSE = "/v4/pay/orders/close";

/** What SparkPay received for one gateway request: close attempts and confirming queries. */
function attempts(calls: SandboxCall[]) {
  return {
    closes: calls.filter((call) => call.path === CLOSE).length,
    queries: calls.filter((call) => call.method === "GET").length,
  };
}

/** A fault: the exact status, code, envelope and upstream attempts; never a 500 or a stack trace. */
async function expectFault(
  requestNo: string,
  status: number,
  code: string | number,
  upstream: { closes: number; queries: number },
  options: Parameters<typeof closeOrder>[1] = {},
) {
  const { response, requestId } = await closeOrder(requestNo, options);
  const text = await response.text();
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toBe(requestId);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(body).toEqual({ code, message: expect.any(String), request_id: requestId });
  expect(text).not.toMatch(/\bat \S+:\d+|Error:/);
  const calls = await sandboxCalls(requestId);
  expect(attempts(calls)).toEqual(upstream);
  return { body, response, calls };
}

/** A success: SparkPay's close envelope for this order, and the upstream attempts. */
async function expectClosed(
  requestNo: string,
  upstream: { closes: number; queries: number },
  options: Parameters<typeof closeOrder>[1] = {},
) {
  const { response, requestId } = await closeOrder(requestNo, options);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    code: 0,
    message: "success",
    data: { request_no: requestNo, merchant_no: MERCHANT, merchant_order_no: `MO_${requestNo}` },
  });
  expect(attempts(await sandboxCalls(requestId))).toEqual(upstream);
  expect((await sandboxOrder(MERCHANT, requestNo))?.pay_status).toBe("CLOSED");
  return response;
}

describe("fault injection: one test per sandbox mode", () => {
  it("no fault: one close, no query", async () => {
    const response = await expectClosed(uniqueId("ORDER"), { closes: 1, queries: 0 });
    expect(response.headers.get("x-close-confirmed-by")).toBeNull();
  });

  it("slow but inside the timeout: waits, one close", async () => {
    await expectClosed(uniqueId("FAULT_SLOW300"), { closes: 1, queries: 0 });
  });

  it("slow past the timeout: 504 after 3 attempts and a confirming query", async () => {
    const started = Date.now();
    const { body } = await expectFault(
      uniqueId("FAULT_SLOW3000"),
      504,
      "UPSTREAM_TIMEOUT",
      { closes: 3, queries: 1 },
      { env: { SPARKPAY_TIMEOUT_MS: "200" } },
    );
    expect(body.message).toBe("SparkPay did not answer within 200 ms (3 attempts).");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("HTTP 500: 502 after 3 attempts, each re-signed with a fresh nonce", async () => {
    const { body, calls } = await expectFault(uniqueId("FAULT_HTTP500"), 502, "UPSTREAM_SERVER_ERROR", {
      closes: 3,
      queries: 1,
    });
    expect(body.message).toBe("SparkPay answered HTTP 500 (3 attempts).");
    expect(new Set(calls.map((call) => call.nonce)).size).toBe(4);
    expect(calls.every((call) => call.signature_valid)).toBe(true);
  });

  it("HTTP 503: 502 after 3 attempts", async () => {
    const { body } = await expectFault(uniqueId("FAULT_HTTP503"), 502, "UPSTREAM_SERVER_ERROR", {
      closes: 3,
      queries: 1,
    });
    expect(body.message).toBe("SparkPay answered HTTP 503 (3 attempts).");
  });

  it("connection reset before an answer: 502 after 3 attempts", async () => {
    const { body } = await expectFault(uniqueId("FAULT_RESET"), 502, "UPSTREAM_UNREACHABLE", { closes: 3, queries: 1 });
    expect(body.message).toBe("SparkPay could not be reached (3 attempts).");
  });

  it("close applied but the answer lost: the retry is refused, the query confirms CLOSED, 200", async () => {
    const response = await expectClosed(uniqueId("FAULT_LOST"), { closes: 2, queries: 1 });
    expect(response.headers.get("x-close-confirmed-by")).toBe("order-query");
  });

  it("flaky (503 once): the retry succeeds", async () => {
    await expectClosed(uniqueId("FAULT_FLAKY"), { closes: 2, queries: 0 });
  });

  it("reports the last real error, not the first (503, then resets)", async () => {
    const { body } = await expectFault(uniqueId("FAULT_WORSENING"), 502, "UPSTREAM_UNREACHABLE", {
      closes: 3,
      queries: 1,
    });
    expect(body.message).toBe("SparkPay could not be reached (3 attempts).");
  });

  it.each([
    ["FAULT_NOTJSON", /HTTP 200 with a body that is not JSON/],
    ["FAULT_WRONGSHAPE", /HTTP 200 with JSON of an unexpected shape/],
    ["FAULT_MISMATCH", /different order/],
  ])("%s: 502 UPSTREAM_INVALID_RESPONSE, never retried", async (prefix, message) => {
    const { body } = await expectFault(uniqueId(prefix), 502, "UPSTREAM_INVALID_RESPONSE", { closes: 1, queries: 0 });
    expect(body.message).toMatch(message);
  });

  it.each([
    ["FAULT_BADSIG", /does not match any configured platform public key/],
    ["FAULT_NOSIG", /no Sparkpay-Signature, Sparkpay-Timestamp, Sparkpay-Nonce header/],
    ["FAULT_STALE", /31\d s from this gateway's clock/],
    ["FAULT_FUTURE", /(309|310) s from this gateway's clock/],
  ])("%s: 502 UPSTREAM_SIGNATURE_INVALID, never retried", async (prefix, message) => {
    const { body } = await expectFault(uniqueId(prefix), 502, "UPSTREAM_SIGNATURE_INVALID", { closes: 1, queries: 0 });
    expect(body.message).toMatch(message);
    expect(body.message).not.toMatch(/[A-Za-z0-9+/]{40,}/);
  });

  it("a body starting with a byte order mark: verified over the bytes as sent, then accepted", async () => {
    await expectClosed(uniqueId("FAULT_BOM"), { closes: 1, queries: 0 });
  });

  it("signed with the rotated-in platform key: accepted", async () => {
    await expectClosed(uniqueId("FAULT_ROTATED"), { closes: 1, queries: 0 });
  });

  it("SparkPay rate limit (429, 40011): 429 with SparkPay's code and Retry-After, never retried", async () => {
    const { body, response } = await expectFault(uniqueId("FAULT_RATELIMITED"), 429, 40011, { closes: 1, queries: 0 });
    expect(body.message).toBe("application call limit exceeded");
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("HTTP 429 without SparkPay's envelope: 429 UPSTREAM_RATE_LIMITED, Retry-After from the HTTP date", async () => {
    const { response } = await expectFault(uniqueId("FAULT_THROTTLED"), 429, "UPSTREAM_RATE_LIMITED", {
      closes: 1,
      queries: 0,
    });
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(2);
    expect(Number(response.headers.get("retry-after"))).toBeLessThanOrEqual(3);
  });

  it("redirect: 502 UPSTREAM_INVALID_RESPONSE, not followed", async () => {
    const { calls, body } = await expectFault(uniqueId("FAULT_REDIRECT"), 502, "UPSTREAM_INVALID_RESPONSE", {
      closes: 1,
      queries: 0,
    });
    expect(body.message).toMatch(/HTTP 307/);
    expect(calls.map((call) => call.path)).toEqual([CLOSE]);
  });
});

describe("retry policy", () => {
  it("unreachable SparkPay: 502 after 3 attempts", async () => {
    const { response } = await closeOrder(uniqueId("ORDER"), {
      env: { SPARKPAY_BASE_URL: "https://sparkpay.invalid" },
    });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      code: "UPSTREAM_UNREACHABLE",
      message: "SparkPay could not be reached (3 attempts).",
    });
  });

  it("SPARKPAY_MAX_RETRIES=0: a single attempt", async () => {
    const { body } = await expectFault(
      uniqueId("FAULT_HTTP503"),
      502,
      "UPSTREAM_SERVER_ERROR",
      { closes: 1, queries: 1 },
      { env: { SPARKPAY_MAX_RETRIES: "0" } },
    );
    expect(body.message).toBe("SparkPay answered HTTP 503 (1 attempt).");
  });

  it("SPARKPAY_MAX_RETRIES=4: five attempts", async () => {
    await expectFault(
      uniqueId("FAULT_HTTP500"),
      502,
      "UPSTREAM_SERVER_ERROR",
      { closes: 5, queries: 1 },
      { env: { SPARKPAY_MAX_RETRIES: "4" } },
    );
  });

  it("the deadline caps the whole call: the first attempt gets only what is left, no retry, no query", async () => {
    const started = Date.now();
    const { body } = await expectFault(
      uniqueId("FAULT_SLOW3000"),
      504,
      "UPSTREAM_TIMEOUT",
      { closes: 1, queries: 0 },
      { env: { SPARKPAY_DEADLINE_MS: "400" } },
    );
    expect(body.message).toBe("SparkPay did not answer within 400 ms (1 attempt).");
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("SparkPay refusals", () => {
  it("pass through with SparkPay's status, code and message; a definitive refusal (40008) is not followed by a query", async () => {
    const { response, requestId } = await callGateway({
      body: JSON.stringify({ request_no: uniqueId("ORDER"), merchant_no: "M_NOBODY" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 40008,
      message: "merchant number does not exist",
      request_id: requestId,
    });
    expect(attempts(await sandboxCalls(requestId))).toEqual({ closes: 1, queries: 0 });
  });

  it("a repeat close of a closed order becomes a confirmed success", async () => {
    const requestNo = uniqueId("ORDER");
    await expectClosed(requestNo, { closes: 1, queries: 0 });
    const response = await expectClosed(requestNo, { closes: 1, queries: 1 });
    expect(response.headers.get("x-close-confirmed-by")).toBe("order-query");
  });

  it("40000 (a merchant key SparkPay does not know) passes through", async () => {
    const { response, requestId } = await closeOrder(uniqueId("ORDER"), {
      env: { SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.otherMerchantPkcs8 },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 40000,
      message: "request signature check failed",
      request_id: requestId,
    });
    expect(attempts(await sandboxCalls(requestId))).toEqual({ closes: 1, queries: 0 });
  });
});

describe("verification switch", () => {
  it("SPARKPAY_VERIFY_RESPONSES=off accepts an unsigned answer", async () => {
    await expectClosed(
      uniqueId("FAULT_NOSIG"),
      { closes: 1, queries: 0 },
      { env: { SPARKPAY_VERIFY_RESPONSES: "off" } },
    );
  });

  it("SPARKPAY_VERIFY_RESPONSES=off still validates the answer's shape", async () => {
    await expectFault(
      uniqueId("FAULT_WRONGSHAPE"),
      502,
      "UPSTREAM_INVALID_RESPONSE",
      { closes: 1, queries: 0 },
      { env: { SPARKPAY_VERIFY_RESPONSES: "off" } },
    );
  });
});

describe("request_no is case-insensitive at SparkPay", () => {
  it("closing ORDER after order was closed is confirmed by the query, whose answer keeps the first casing", async () => {
    const requestNo = uniqueId("case");
    await expectClosed(requestNo, { closes: 1, queries: 0 });
    const { response } = await closeOrder(requestNo.toUpperCase());
    expect(response.status).toBe(200);
    expect(response.headers.get("x-close-confirmed-by")).toBe("order-query");
    expect(((await response.json()) as { data: { request_no: string } }).data.request_no).toBe(requestNo);
  });
});

describe("merchant key rotation without downtime", () => {
  it("signs with the current key; once SparkPay switches to the next key, re-signs with it and keeps it", async () => {
    const { env: testEnv } = await import("cloudflare:workers");
    // One env object for the whole story, as one isolate sees it.
    const rotating = {
      ...testEnv,
      SPARKPAY_APP_ID: "sandbox_app_rotation",
      SPARKPAY_PRIVATE_KEY: testEnv.TEST_KEYS.merchantPkcs8 + testEnv.TEST_KEYS.otherMerchantPkcs8,
    };
    const close = async () => {
      const { response, requestId } = await closeOrder(uniqueId("ROTATE"), { exactEnv: rotating });
      expect(response.status).toBe(200);
      return (await sandboxCalls(requestId)).map((call) => call.signature_valid);
    };

    expect(await close()).toEqual([true]); // SparkPay still has the current key
    const upload = await fetch("https://sandbox.control/__sandbox/apps/sandbox_app_rotation/public-key", {
      method: "PUT",
      body: testEnv.TEST_KEYS.otherMerchantPublic,
    });
    expect(upload.status).toBe(200);
    expect(await close()).toEqual([false, true]); // 40000 with the current key, then the next key
    expect(await close()).toEqual([true]); // the next key is now the one used
  });
});

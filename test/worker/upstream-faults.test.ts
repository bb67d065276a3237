import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FAULT_MODES, faultRequestNo, messageMatches } from "../../sandbox/faults.mjs";
import { CLOSE_ORDER_PATH } from "../../src/sparkpay/constants";
import {
  attempts,
  callGateway,
  closeOrder,
  docUrl,
  expectClosed,
  expectFault,
  sandboxCalls,
  uniqueId,
} from "./helpers";

describe("fault injection: every mode of the sandbox's fault table", () => {
  it("no fault: one close, no query", async () => {
    const response = await expectClosed(uniqueId("ORDER"), { closes: 1, queries: 0 });
    expect(response.headers.get("x-close-confirmed-by")).toBeNull();
  });

  it.each(Object.entries(FAULT_MODES))(
    "%s: the answer and the SparkPay calls the table expects",
    async (name, mode) => {
      const want = mode.expect;
      const requestNo = faultRequestNo(name, uniqueId("T"));
      const upstream = { closes: want.closes, queries: want.queries };
      const options = { env: mode.settings ?? {} };
      if (want.status === 200) {
        const response = await expectClosed(requestNo, upstream, options);
        expect(response.headers.get("x-close-confirmed-by")).toBe(want.confirmed ? "order-query" : null);
      } else {
        // The order as the confirming query showed it, and SparkPay's refusal, when the table expects them.
        const more = {
          ...(want.pay_status ? { order: expect.objectContaining({ pay_status: want.pay_status }) } : {}),
          ...(want.refusal ? { refusal: expect.objectContaining({ code: want.refusal }) } : {}),
        };
        const { body } = await expectFault(requestNo, want.status, want.code!, upstream, options, more);
        expect(messageMatches(want.message, body.message), body.message).toBe(true);
        expect(body.message).not.toMatch(/[A-Za-z0-9+/]{40,}/);
      }
    },
  );

  it("slow past the timeout: 504 after 3 attempts and a confirming query", async () => {
    const { body } = await expectFault(
      uniqueId("FAULT_SLOW3000"),
      504,
      "UPSTREAM_TIMEOUT",
      { closes: 3, queries: 1 },
      { env: { SPARKPAY_TIMEOUT_MS: "200" } },
    );
    expect(body.message).toBe("SparkPay did not answer within 200 ms (3 attempts).");
  });

  it("HTTP 500: every attempt re-signed with a fresh nonce", async () => {
    const { calls } = await expectFault(uniqueId("FAULT_HTTP500"), 502, "UPSTREAM_SERVER_ERROR", {
      closes: 3,
      queries: 1,
    });
    expect(new Set(calls.map((call) => call.nonce)).size).toBe(4);
    expect(calls.every((call) => call.signature_valid)).toBe(true);
  });

  it("SparkPay rate limit (429, 40011): SparkPay's Retry-After is passed on", async () => {
    const { response } = await expectFault(uniqueId("FAULT_RATELIMITED"), 429, 40011, { closes: 1, queries: 0 });
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("HTTP 429 without SparkPay's envelope: Retry-After from the HTTP date", async () => {
    const { response } = await expectFault(uniqueId("FAULT_THROTTLED"), 429, "UPSTREAM_RATE_LIMITED", {
      closes: 1,
      queries: 0,
    });
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(2);
    expect(Number(response.headers.get("retry-after"))).toBeLessThanOrEqual(3);
  });

  it("redirect: not followed", async () => {
    const { calls } = await expectFault(uniqueId("FAULT_REDIRECT"), 502, "UPSTREAM_INVALID_RESPONSE", {
      closes: 1,
      queries: 0,
    });
    expect(calls.map((call) => call.path)).toEqual([CLOSE_ORDER_PATH]);
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
    const { body } = await expectFault(
      uniqueId("FAULT_SLOW3000"),
      504,
      "UPSTREAM_TIMEOUT",
      { closes: 1, queries: 0 },
      { env: { SPARKPAY_DEADLINE_MS: "400" } },
    );
    // The exact budget (what is left of the deadline) is checked with a fake clock in client-policy.test.ts.
    expect(body.message).toMatch(/^SparkPay did not answer within (39\d|400) ms \(1 attempt\)\.$/);
  });
});

describe("SparkPay refusals", () => {
  it(
    "pass through with SparkPay's status, code and message; " +
      "a definitive refusal (40008) is not followed by a query",
    async () => {
      const { response, requestId } = await callGateway({
        body: JSON.stringify({ request_no: uniqueId("ORDER"), merchant_no: "M_NOBODY" }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        code: 40008,
        message: "merchant number does not exist",
        request_id: requestId,
        doc_url: docUrl(40008),
      });
      expect(attempts(await sandboxCalls(requestId))).toEqual({ closes: 1, queries: 0 });
    },
  );

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
      doc_url: docUrl(40000),
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
  it(
    "closing ORDER after order was closed is confirmed by the query, " + "whose answer keeps the first casing",
    async () => {
      const requestNo = uniqueId("case");
      await expectClosed(requestNo, { closes: 1, queries: 0 });
      const { response } = await closeOrder(requestNo.toUpperCase());
      expect(response.status).toBe(200);
      expect(response.headers.get("x-close-confirmed-by")).toBe("order-query");
      expect(((await response.json()) as { data: { request_no: string } }).data.request_no).toBe(requestNo);
    },
  );
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

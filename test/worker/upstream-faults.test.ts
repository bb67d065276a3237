import { describe, expect, it } from "vitest";
import { type ErrorEnvelope, MERCHANT, callGateway, closeOrder, sandboxCalls, sandboxOrder, uniqueId } from "./helpers";

/** Each SparkPay fault: the exact status and code, the envelope, and never a 500 or a stack trace. */
async function expectFault(requestNo: string, status: number, code: string | number, options: Parameters<typeof closeOrder>[1] = {}) {
  const { response, requestId } = await closeOrder(requestNo, options);
  const text = await response.text();
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toBe(requestId);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(body).toEqual({ code, message: expect.any(String), request_id: requestId });
  expect(text).not.toMatch(/\bat \S+:\d+|Error:/);
  return { body, requestId };
}

describe("SparkPay faults", () => {
  it("502 UPSTREAM_UNREACHABLE when SparkPay cannot be reached", async () => {
    const { body } = await expectFault(uniqueId("ORDER"), 502, "UPSTREAM_UNREACHABLE", { env: { SPARKPAY_BASE_URL: "https://sparkpay.invalid" } });
    expect(body.message).toBe("SparkPay could not be reached.");
  });

  it("502 UPSTREAM_UNREACHABLE when the connection is reset before an answer", async () => {
    const requestNo = uniqueId("FAULT_RESET");
    const { requestId } = await expectFault(requestNo, 502, "UPSTREAM_UNREACHABLE");
    expect(await sandboxCalls(requestId)).toHaveLength(1);
  });

  it("504 UPSTREAM_TIMEOUT when SparkPay is slower than SPARKPAY_TIMEOUT_MS", async () => {
    const started = Date.now();
    const { body } = await expectFault(uniqueId("FAULT_SLOW"), 504, "UPSTREAM_TIMEOUT", { env: { SPARKPAY_TIMEOUT_MS: "300" } });
    expect(body.message).toBe("SparkPay did not answer within 300 ms.");
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it("waits for a slow SparkPay that is inside the timeout", async () => {
    const { response } = await closeOrder(uniqueId("FAULT_SLOW"));
    expect(response.status).toBe(200);
  });

  it.each([
    ["FAULT_HTTP500", 500],
    ["FAULT_HTTP503", 503],
  ])("502 UPSTREAM_SERVER_ERROR when SparkPay answers %s", async (prefix, upstream) => {
    const { body } = await expectFault(uniqueId(prefix), 502, "UPSTREAM_SERVER_ERROR");
    expect(body.message).toBe(`SparkPay answered HTTP ${upstream}.`);
  });

  it.each([
    ["FAULT_NOTJSON", /not JSON/],
    ["FAULT_WRONGSHAPE", /unexpected shape/],
    ["FAULT_MISMATCH", /different order/],
  ])("502 UPSTREAM_INVALID_RESPONSE for %s", async (prefix, message) => {
    const { body } = await expectFault(uniqueId(prefix), 502, "UPSTREAM_INVALID_RESPONSE");
    expect(body.message).toMatch(message);
  });

  it("does not follow a redirect with the signed request", async () => {
    const { requestId } = await expectFault(uniqueId("FAULT_REDIRECT"), 502, "UPSTREAM_INVALID_RESPONSE");
    expect((await sandboxCalls(requestId)).map((call) => call.path)).toEqual(["/v4/pay/orders/close"]);
  });

  it.each([
    ["FAULT_BADSIG", /does not match any configured platform public key/],
    ["FAULT_NOSIG", /no Sparkpay-Signature, Sparkpay-Timestamp, Sparkpay-Nonce header/],
    ["FAULT_STALE", /301 s from this gateway's clock/],
    ["FAULT_FUTURE", /301 s from this gateway's clock/],
  ])("502 UPSTREAM_SIGNATURE_INVALID for %s", async (prefix, message) => {
    const { body } = await expectFault(uniqueId(prefix), 502, "UPSTREAM_SIGNATURE_INVALID");
    expect(body.message).toMatch(message);
  });

  it("never reveals the signature SparkPay sent", async () => {
    const { body } = await expectFault(uniqueId("FAULT_BADSIG"), 502, "UPSTREAM_SIGNATURE_INVALID");
    expect(body.message).not.toMatch(/[A-Za-z0-9+/]{40,}/);
  });

  it("accepts a response signed with the rotated-in platform key", async () => {
    const { response } = await closeOrder(uniqueId("FAULT_ROTATED"));
    expect(response.status).toBe(200);
  });

  it("with SPARKPAY_VERIFY_RESPONSES=off, accepts an unsigned answer", async () => {
    const requestNo = uniqueId("FAULT_NOSIG");
    const { response } = await closeOrder(requestNo, { env: { SPARKPAY_VERIFY_RESPONSES: "off" } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { request_no: string } }).data.request_no).toBe(requestNo);
  });

  it("with SPARKPAY_VERIFY_RESPONSES=off, still validates the answer's shape", async () => {
    await expectFault(uniqueId("FAULT_WRONGSHAPE"), 502, "UPSTREAM_INVALID_RESPONSE", { env: { SPARKPAY_VERIFY_RESPONSES: "off" } });
  });
});

describe("SparkPay refusals pass through", () => {
  it("keeps SparkPay's status, code and message for an unknown merchant", async () => {
    const { response, requestId } = await callGateway({ body: JSON.stringify({ request_no: uniqueId("ORDER"), merchant_no: "M_NOBODY" }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 40008, message: "merchant number does not exist", request_id: requestId });
  });

  it("keeps SparkPay's answer to closing an order twice", async () => {
    const requestNo = uniqueId("ORDER");
    expect((await closeOrder(requestNo)).response.status).toBe(200);
    const { response } = await closeOrder(requestNo);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 40009, message: "order is already closed" });
    expect((await sandboxOrder(MERCHANT, requestNo))?.pay_status).toBe("CLOSED");
  });

  it("passes 40000 through when SparkPay rejects our signature (a key SparkPay does not know)", async () => {
    const { env } = await import("cloudflare:workers");
    const { response, requestId } = await closeOrder(uniqueId("ORDER"), { env: { SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.otherMerchantPkcs8 } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 40000, message: "request signature check failed", request_id: requestId });
  });
});

import { describe, expect, it } from "vitest";
import { callGateway, closeOrder, docUrl, type ErrorEnvelope, MERCHANT, sandboxCalls, uniqueId } from "./helpers";

const queryUrl = (merchantNo: string, requestNo: string) =>
  `https://gateway.test/v4/pay/orders/${merchantNo}/${requestNo}`;
const query = (merchantNo: string, requestNo: string, options: Parameters<typeof callGateway>[0] = {}) =>
  callGateway({ method: "GET", url: queryUrl(merchantNo, requestNo), ...options });

describe("GET /v4/pay/orders/{merchant_no}/{request_no}: Payment Order Query through the gateway", () => {
  it("signs the query, verifies and validates SparkPay's answer, and passes its envelope through", async () => {
    const requestNo = uniqueId("QUERY");
    expect((await closeOrder(requestNo)).response.status).toBe(200);
    const { response, requestId } = await query(MERCHANT, requestNo);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { code: number; data: Record<string, unknown> };
    expect(body).toMatchObject({
      code: 0,
      message: "success",
      data: {
        request_no: requestNo,
        merchant_no: MERCHANT,
        merchant_order_no: `MO_${requestNo}`,
        pay_status: "CLOSED",
      },
    });
    expect(body.data.payment_order_no).toEqual(expect.any(String)); // SparkPay's other fields pass through
    const calls = await sandboxCalls(requestId);
    expect(calls).toMatchObject([
      { method: "GET", path: `/v4/pay/orders/${MERCHANT}/${requestNo}`, signature_valid: true },
    ]);
  });

  it("SparkPay's refusal passes through (an order SparkPay does not know)", async () => {
    const { response, requestId } = await query(MERCHANT, uniqueId("NOPE"));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 40009,
      message: "order does not exist",
      request_id: requestId,
      doc_url: docUrl(40009),
    });
  });

  it.each([
    ["merchant_no", "M-1", "R_1", /^merchant_no may contain only letters, digits and underscore/],
    ["request_no", MERCHANT, "R%20X", /^request_no may contain only letters, digits and underscore/],
    ["request_no", MERCHANT, "R".repeat(65), /^request_no must be at most 64 characters/],
  ])("400 INVALID_REQUEST naming %s, nothing sent upstream", async (_field, merchantNo, requestNo, message) => {
    const { response, requestId } = await query(merchantNo, requestNo);
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorEnvelope;
    expect(body.code).toBe("INVALID_REQUEST");
    expect(body.message).toMatch(message);
    expect(await sandboxCalls(requestId)).toEqual([]);
  });

  it("needs a caller key, and a scoped key only queries its own merchants", async () => {
    expect((await query(MERCHANT, "R_1", { headers: { Authorization: "" } })).response.status).toBe(401);
    const key = `gw_${crypto.randomUUID().replaceAll("-", "")}`;
    const scoped = { headers: { Authorization: `Bearer ${key}` }, env: { GATEWAY_API_KEYS: `${key}:M_SANDBOX_002` } };
    const { response, requestId } = await query(MERCHANT, "R_1", scoped);
    expect(response.status).toBe(403);
    expect(await sandboxCalls(requestId)).toEqual([]);
  });
});

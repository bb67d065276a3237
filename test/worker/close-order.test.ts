import { describe, expect, it } from "vitest";
import { MERCHANT, closeOrder, sandboxCalls, sandboxOrder, uniqueId } from "./helpers";

describe("POST /v4/pay/orders/close", () => {
  it("closes the order at SparkPay and answers with SparkPay's verified envelope", async () => {
    const requestNo = uniqueId("ORDER");
    const { response, requestId } = await closeOrder(requestNo);

    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe(requestId);
    expect(await response.json()).toEqual({
      code: 0,
      message: "success",
      data: { request_no: requestNo, merchant_no: MERCHANT, merchant_order_no: `MO_${requestNo}` },
    });
    expect((await sandboxOrder(MERCHANT, requestNo))?.pay_status).toBe("CLOSED");
    const calls = await sandboxCalls(requestId);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.signature_valid).toBe(true);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import {
  CALLER_KEY,
  captureLogs,
  closeOrder,
  MERCHANT,
  ROTATED_CALLER_KEY,
  sandboxCalls,
  sandboxOrder,
  uniqueId,
} from "./helpers";

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

describe("the request SparkPay receives", () => {
  it("is signed over exactly the bytes sent, with every required header", async () => {
    const requestNo = uniqueId("ORDER");
    const { requestId } = await closeOrder(requestNo);
    const [call] = await sandboxCalls(requestId);
    expect(call).toMatchObject({
      method: "POST",
      path: "/v4/pay/orders/close",
      user_agent: `sparkpay-edge-gateway/${pkg.version}`,
      signature_valid: true,
      body: JSON.stringify({ request_no: requestNo, merchant_no: MERCHANT }),
    });
    expect(call!.nonce).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it("uses a fresh nonce for every request", async () => {
    const nonces = [];
    for (let i = 0; i < 5; i++) {
      const { requestId } = await closeOrder(uniqueId("ORDER"));
      nonces.push((await sandboxCalls(requestId))[0]!.nonce);
    }
    expect(new Set(nonces).size).toBe(5);
  });

  it("accepts the second caller key too, so keys can rotate", async () => {
    const { response } = await closeOrder(uniqueId("ORDER"), {
      headers: { Authorization: `Bearer ${ROTATED_CALLER_KEY}` },
    });
    expect(response.status).toBe(200);
  });
});

describe("logs", () => {
  it("writes one JSON line per request with the fields operators need", async () => {
    const requestNo = uniqueId("ORDER");
    let requestId = "";
    let callerRequestId = "";
    const lines = await captureLogs(async () => ({ requestId, callerRequestId } = await closeOrder(requestNo)));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: "info",
      msg: "request",
      request_id: requestId,
      caller_request_id: callerRequestId,
      method: "POST",
      route: "/v4/pay/orders/close",
      status: 200,
      duration_ms: expect.any(Number),
      caller: expect.stringMatching(/^[0-9a-f]{12}$/),
      merchant_no: MERCHANT,
      upstream_status: 200,
      sparkpay_code: 0,
      attempts: 1,
      upstream_ms: expect.any(Number),
      sparkpay_request_id: expect.stringMatching(/^sbx_[0-9a-f]{12}$/),
      confirmed_by: "close",
    });
  });

  it("LOG_LEVEL=debug adds one line per SparkPay attempt, with its timing and SparkPay's request id", async () => {
    let requestId = "";
    const lines = await captureLogs(
      async () => ({ requestId } = await closeOrder(uniqueId("FAULT_FLAKY"), { env: { LOG_LEVEL: "debug" } })),
    );
    const parsed = lines.map((line) => JSON.parse(line));
    expect(parsed.filter((line) => line.msg === "sparkpay attempt")).toEqual([
      {
        level: "debug",
        msg: "sparkpay attempt",
        request_id: requestId,
        operation: "close",
        attempt: 1,
        key: 1,
        status: 503,
        duration_ms: expect.any(Number),
        sparkpay_request_id: expect.any(String),
      },
      {
        level: "debug",
        msg: "sparkpay attempt",
        request_id: requestId,
        operation: "close",
        attempt: 2,
        key: 1,
        status: 200,
        duration_ms: expect.any(Number),
        sparkpay_request_id: expect.any(String),
      },
    ]);
    expect(parsed.at(-1)).toMatchObject({ level: "info", msg: "request", status: 200, attempts: 2 });
  });

  it("LOG_LEVEL=warn keeps 4xx and 5xx lines only; LOG_LEVEL=error keeps 5xx only", async () => {
    const warn = await captureLogs(async () => {
      await closeOrder(uniqueId("ORDER"), { env: { LOG_LEVEL: "warn" } });
      await closeOrder(uniqueId("ORDER"), { env: { LOG_LEVEL: "warn" }, headers: { Authorization: "" } });
    });
    expect(warn.map((line) => JSON.parse(line).status)).toEqual([401]);
    const error = await captureLogs(async () => {
      await closeOrder(uniqueId("ORDER"), { env: { LOG_LEVEL: "error" }, headers: { Authorization: "" } });
      await closeOrder(uniqueId("FAULT_HTTP500"), { env: { LOG_LEVEL: "error" } });
    });
    expect(error.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ level: "error", status: 502 })]);
  });

  it("logs the error code and SparkPay's status on failure", async () => {
    const lines = await captureLogs(() => closeOrder(uniqueId("FAULT_HTTP503")));
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "error",
      status: 502,
      error_code: "UPSTREAM_SERVER_ERROR",
      upstream_status: 503,
    });
  });

  it("never logs keys, signatures, caller keys or bodies", async () => {
    const lines = await captureLogs(async () => {
      await closeOrder(uniqueId("ORDER"));
      await closeOrder(uniqueId("FAULT_BADSIG"));
      await closeOrder(uniqueId("ORDER"), { headers: { Authorization: "Bearer gw_wrong_key_that_must_not_appear" } });
      await closeOrder(uniqueId("ORDER"), { env: { SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.merchantPkcs8.slice(0, 300) } });
    });
    const all = lines.join("\n");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [CALLER_KEY, ROTATED_CALLER_KEY, "gw_wrong_key_that_must_not_appear"])
      expect(all).not.toContain(secret);
    for (const pem of [env.SPARKPAY_PRIVATE_KEY, env.TEST_KEYS.merchantPkcs8]) {
      for (const chunk of pem
        .replace(/-----[A-Z ]+-----/g, "")
        .replace(/\s+/g, "")
        .match(/.{16}/g)!)
        expect(all).not.toContain(chunk);
    }
    expect(all).not.toMatch(/[A-Za-z0-9+/]{40,}={0,2}/); // no signature or key material of any kind
    expect(all).not.toContain('"request_no"');
  });
});

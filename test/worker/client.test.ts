import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { hc } from "hono/client";
import { describe, expect, it } from "vitest";
import app, { type AppType } from "../../src/app";
import { CALLER_KEY, MERCHANT, uniqueId } from "./helpers";

// Hono's hc client typed from AppType (for TypeScript code inside this repository; callers use the client package).
const client = hc<AppType>("https://gateway.test", {
  headers: { Authorization: `Bearer ${CALLER_KEY}` },
  fetch: (input: RequestInfo | URL, init?: RequestInit) =>
    app.fetch(new Request(input, init), env, createExecutionContext()),
});

describe("typed client (hono/client)", () => {
  it("closes an order with typed input and a typed answer", async () => {
    const requestNo = uniqueId("HC");
    const response = await client.v4.pay.orders.close.$post({ json: { request_no: requestNo, merchant_no: MERCHANT } });
    expect(response.status).toBe(200);
    if (response.status === 200) {
      const body = await response.json();
      // Typed: data.merchant_order_no is a string to the compiler.
      const merchantOrderNo: string = body.data.merchant_order_no;
      expect(merchantOrderNo).toBe(`MO_${requestNo}`);
    }
  });

  it("reads the health check and the OpenAPI document", async () => {
    const health = await client.healthz.$get();
    expect(health.status).toBe(200);
    const openapi = await client["openapi.json"].$get();
    expect(((await openapi.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });
});

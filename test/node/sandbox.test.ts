import { createSign, createVerify, randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { serveSandbox } from "../../sandbox/server.mjs";
import { createSandbox, SANDBOX_APP_ID } from "../../sandbox/sparkpay-sandbox.mjs";
import { generateTestKeys } from "../support/test-keys";

// The sandbox is the oracle every gateway test trusts, so its own strictness is tested here,
// with requests signed directly by node:crypto.
const keys = generateTestKeys();
const sandbox = createSandbox({
  merchantPublicKey: keys.merchant.publicKeyPem,
  platformPrivateKey: keys.platform.privateKeyPem,
});

interface Options {
  body?: string;
  privateKey?: string;
  timestamp?: number;
  nonce?: string;
  omit?: string[];
  appId?: string;
  method?: string;
  path?: string;
}

function signedRequest({
  body = "",
  privateKey = keys.merchant.privateKeyPem,
  timestamp = Math.floor(Date.now() / 1000),
  nonce = randomBytes(16).toString("hex"),
  omit = [],
  appId = SANDBOX_APP_ID,
  method = "POST",
  path = "/v4/pay/orders/close",
}: Options) {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "sandbox-test/1",
    "Sparkpay-App-Id": appId,
    "Sparkpay-Timestamp": String(timestamp),
    "Sparkpay-Nonce": nonce,
    "Sparkpay-Signature": createSign("RSA-SHA256")
      .update(`${timestamp}\n${nonce}\n${body}\n`)
      .sign(privateKey, "base64"),
  };
  for (const name of omit) delete headers[name];
  return new Request(`https://api.sparkpay.top${path}`, { method, headers, body: method === "GET" ? undefined : body });
}

const close = (requestNo: string, merchantNo = "M_SANDBOX_001", options: Options = {}) =>
  sandbox.handle(
    signedRequest({ body: JSON.stringify({ request_no: requestNo, merchant_no: merchantNo }), ...options }),
  );

async function refusal(response: Response) {
  return { status: response.status, ...((await response.json()) as { code: number; message: string }) };
}

describe("sandbox: request checks", () => {
  it("closes an order and signs the answer with the platform key", async () => {
    const response = await close("S_OK_1");
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(body)).toEqual({
      code: 0,
      message: "success",
      data: { request_no: "S_OK_1", merchant_no: "M_SANDBOX_001", merchant_order_no: "MO_S_OK_1" },
    });
    const timestamp = response.headers.get("Sparkpay-Timestamp");
    const nonce = response.headers.get("Sparkpay-Nonce");
    const message = `${timestamp}\n${nonce}\n${body}\n`;
    expect(
      createVerify("RSA-SHA256")
        .update(message)
        .verify(keys.platform.publicKeyPem, response.headers.get("Sparkpay-Signature")!, "base64"),
    ).toBe(true);
  });

  it.each([
    ["a signature by another key", { privateKey: keys.rotatedPlatform.privateKeyPem }, 40000],
    ["a timestamp 301 s old", { timestamp: Math.floor(Date.now() / 1000) - 301 }, 40000],
    ["no User-Agent", { omit: ["User-Agent"] }, 40003],
    ["no Sparkpay-Nonce", { omit: ["Sparkpay-Nonce"] }, 40003],
    ["no Sparkpay-Signature", { omit: ["Sparkpay-Signature"] }, 40003],
    ["another AppID", { appId: "someone_else" }, 40002],
    ["no Content-Type", { omit: ["Content-Type"] }, 40009],
  ])("refuses %s", async (_name, options, code) => {
    expect(await refusal(await close(`S_BAD_${code}`, "M_SANDBOX_001", options))).toMatchObject({ status: 400, code });
  });

  it("refuses a nonce it has seen and counts it", async () => {
    const nonce = randomBytes(16).toString("hex");
    expect((await close("S_NONCE_1", "M_SANDBOX_001", { nonce })).status).toBe(200);
    const before = sandbox.stats.duplicate_nonces;
    expect(await refusal(await close("S_NONCE_2", "M_SANDBOX_001", { nonce }))).toMatchObject({
      status: 400,
      code: 40000,
    });
    expect(sandbox.stats.duplicate_nonces).toBe(before + 1);
  });

  it("refuses an unknown merchant with 40008 and a second close with 40009", async () => {
    expect(await refusal(await close("S_M_1", "M_NOBODY"))).toMatchObject({ status: 400, code: 40008 });
    expect((await close("S_TWICE_1")).status).toBe(200);
    expect(await refusal(await close("s_twice_1"))).toMatchObject({
      status: 400,
      code: 40009,
      message: "order is already closed",
    });
  });

  it("answers the order query with pay_status CLOSED after a close", async () => {
    expect((await close("S_QUERY_1")).status).toBe(200);
    const response = await sandbox.handle(
      signedRequest({ method: "GET", path: "/v4/pay/orders/M_SANDBOX_001/S_QUERY_1" }),
    );
    expect(await response.json()).toMatchObject({
      code: 0,
      data: { pay_status: "CLOSED", merchant_order_no: "MO_S_QUERY_1" },
    });
  });
});

describe("sandbox over HTTP", () => {
  const started = serveSandbox(sandbox, { port: 0 });
  afterAll(async () => (await started).close());
  const url = async (path: string) => `http://127.0.0.1:${((await started).address() as AddressInfo).port}${path}`;

  it("serves the same answers over node:http", async () => {
    const request = signedRequest({ body: JSON.stringify({ request_no: "S_HTTP_1", merchant_no: "M_SANDBOX_001" }) });
    const response = await fetch(await url("/v4/pay/orders/close"), {
      method: "POST",
      headers: request.headers,
      body: await request.text(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("sparkpay-signature")).toBeTruthy();
  });

  it("drops the connection for the `reset` fault", async () => {
    const request = signedRequest({
      body: JSON.stringify({ request_no: "FAULT_RESET_1", merchant_no: "M_SANDBOX_001" }),
    });
    await expect(
      fetch(await url("/v4/pay/orders/close"), {
        method: "POST",
        headers: request.headers,
        body: await request.text(),
      }),
    ).rejects.toThrow();
  });
});

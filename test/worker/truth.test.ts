import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthReport } from "../../src/schemas";
import {
  callGateway,
  captureLogs,
  closeOrder,
  type ErrorEnvelope,
  expectClosed,
  expectFault,
  sandboxCalls,
  uniqueId,
} from "./helpers";

const keys = env.TEST_KEYS;
const HEALTH = { method: "GET", url: "https://gateway.test/healthz" };

async function health(exactEnv: Env) {
  const { response } = await callGateway({ ...HEALTH, exactEnv });
  return { status: response.status, body: (await response.json()) as HealthReport };
}

async function uploadMerchantKey(appId: string, publicKeyPem: string) {
  const upload = await fetch(`https://sandbox.control/__sandbox/apps/${appId}/public-key`, {
    method: "PUT",
    body: publicKeyPem,
  });
  expect(upload.status).toBe(200);
}

describe("merchant-key rotation in both directions", () => {
  it("keys stored in either order; SparkPay rolling back; /healthz names the key SparkPay last accepted", async () => {
    const appId = "sandbox_app_rollback";
    // The next key first, the current one second: the "wrong" order.
    const rotating = {
      ...env,
      SPARKPAY_APP_ID: appId,
      SPARKPAY_PRIVATE_KEY: keys.otherMerchantPkcs8 + keys.merchantPkcs8,
    };
    const close = async () => {
      const { response, requestId } = await closeOrder(uniqueId("ROLL"), { exactEnv: rotating });
      expect(response.status).toBe(200);
      return (await sandboxCalls(requestId)).map((call) => call.signature_valid);
    };
    expect((await health(rotating)).body.merchant_keys).toEqual({ configured: 2, last_accepted: null });

    expect(await close()).toEqual([false, true]); // SparkPay has the second key
    expect(await close()).toEqual([true]);
    expect((await health(rotating)).body.merchant_keys).toEqual({ configured: 2, last_accepted: 2 });

    await uploadMerchantKey(appId, keys.otherMerchantPublic); // SparkPay switches to the first key
    expect(await close()).toEqual([false, true]);
    expect((await health(rotating)).body.merchant_keys).toEqual({ configured: 2, last_accepted: 1 });

    await uploadMerchantKey(appId, keys.merchantPublicSpki); // ... and rolls back
    expect(await close()).toEqual([false, true]);
    expect(await close()).toEqual([true]);
    expect((await health(rotating)).body.merchant_keys).toEqual({ configured: 2, last_accepted: 2 });
    const text = JSON.stringify(await health(rotating));
    expect(text).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
  });

  it("never keeps a key SparkPay rejected: with neither key known, every close tries both", async () => {
    const both = { ...env, SPARKPAY_PRIVATE_KEY: keys.otherMerchantPkcs8 + keys.otherMerchantPkcs8 };
    for (let i = 0; i < 2; i++) {
      const { response, requestId } = await closeOrder(uniqueId("NOKEY"), { exactEnv: both });
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorEnvelope).code).toBe(40000);
      expect((await sandboxCalls(requestId)).map((call) => call.signature_valid)).toEqual([false, false]);
    }
    expect((await health(both)).body.merchant_keys).toEqual({ configured: 2, last_accepted: null });
  });
});

describe("misconfiguration: 503 naming the setting, never a 500, never ready", () => {
  it.each(["CALLER_RATE_LIMITER", "MERCHANT_RATE_LIMITER"])("%s not bound", async (binding) => {
    const { response, requestId } = await closeOrder(uniqueId("ORDER"), {
      env: { [binding]: undefined } as unknown as Partial<Env>,
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      code: "GATEWAY_MISCONFIGURED",
      message: `${binding} is not bound; declare it under [[ratelimits]] in wrangler.toml for this environment.`,
    });
    expect(await sandboxCalls(requestId)).toEqual([]);
  });

  it("READ_RATE_LIMITER not bound: the reads answer 503 naming it, closes go on", async () => {
    const unbound = { env: { READ_RATE_LIMITER: undefined } as unknown as Partial<Env> };
    const request = uniqueId("ORDER");
    const { response: query } = await callGateway({
      method: "GET",
      url: `https://gateway.test/v4/pay/orders/M_SANDBOX_001/${request}`,
      ...unbound,
    });
    expect(query.status).toBe(503);
    expect(await query.json()).toMatchObject({
      code: "GATEWAY_MISCONFIGURED",
      message: "READ_RATE_LIMITER is not bound; declare it under [[ratelimits]] in wrangler.toml for this environment.",
    });
    expect((await closeOrder(request, unbound)).response.status).toBe(200);
  });

  it("a var written as a TOML number is honoured: SPARKPAY_MAX_RETRIES = 0 means one attempt", async () => {
    const { body } = await expectFault(
      uniqueId("FAULT_HTTP503"),
      502,
      "UPSTREAM_SERVER_ERROR",
      { closes: 1, queries: 1 },
      { env: { SPARKPAY_MAX_RETRIES: 0 as unknown as string } },
    );
    expect(body.message).toBe("SparkPay answered HTTP 503 (1 attempt).");
  });

  it.each([
    ["SPARKPAY_MAX_RETRIES = true", { SPARKPAY_MAX_RETRIES: true }, /^SPARKPAY_MAX_RETRIES must be a whole number/],
    ["SPARKPAY_TIMEOUT_MS = 2.5", { SPARKPAY_TIMEOUT_MS: 2.5 }, /^SPARKPAY_TIMEOUT_MS must be a whole number/],
    ["SPARKPAY_VERIFY_RESPONSES = false", { SPARKPAY_VERIFY_RESPONSES: false }, /^SPARKPAY_VERIFY_RESPONSES must be/],
    ["SPARKPAY_BASE_URL ending in a bare ?", { SPARKPAY_BASE_URL: "https://api.sparkpay.top/?" }, /without a path/],
    ["SPARKPAY_BASE_URL ending in a bare #", { SPARKPAY_BASE_URL: "https://api.sparkpay.top#" }, /without a path/],
    ["SPARKPAY_BASE_URL with a path", { SPARKPAY_BASE_URL: "https://api.sparkpay.top/v4" }, /without a path/],
    [
      "the placeholder AppID",
      { SPARKPAY_APP_ID: "replace-with-your-sparkpay-app-id" },
      /^SPARKPAY_APP_ID is still the placeholder/,
    ],
    [
      "the platform key set to the merchant key's own public half",
      { SPARKPAY_PLATFORM_PUBLIC_KEY: keys.merchantPublicSpki },
      /^SPARKPAY_PLATFORM_PUBLIC_KEY is the public half of your own SPARKPAY_PRIVATE_KEY/,
    ],
    ["SPARKPAY_MAX_RESPONSE_BYTES too small", { SPARKPAY_MAX_RESPONSE_BYTES: "10" }, /must be at least 1024/],
  ])("%s: refused by name on close and by /healthz", async (_name, overrides, message) => {
    const broken = { ...env, ...(overrides as unknown as Partial<Env>) };
    const { response, requestId } = await closeOrder(uniqueId("ORDER"), { exactEnv: broken });
    expect(response.status).toBe(503);
    const body = (await response.json()) as ErrorEnvelope;
    expect(body.code).toBe("GATEWAY_MISCONFIGURED");
    expect(body.message).toMatch(message);
    expect(await sandboxCalls(requestId)).toEqual([]);
    const report = await health(broken);
    expect(report.status).toBe(503);
    expect(report.body.status).toBe("not_ready");
    expect(Object.values(report.body.checks)).toContainEqual({
      status: "problem",
      message: expect.stringMatching(message),
    });
  });

  it("a base URL with a port and a trailing slash is fine", async () => {
    const { response } = await callGateway({ ...HEALTH, env: { SPARKPAY_BASE_URL: "https://api.sparkpay.top:8443/" } });
    expect(response.status).toBe(200);
  });
});

describe("bounded reads", () => {
  it.each(["FAULT_HUGE", "FAULT_HUGE5XX", "FAULT_GZIPBOMB"])(
    "%s: a prompt 502, and the next request is served normally",
    async (prefix) => {
      const { response } = await closeOrder(uniqueId(prefix));
      expect(response.status).toBe(502);
      await expectClosed(uniqueId("AFTER"), { closes: 1, queries: 0 });
    },
  );

  it("SPARKPAY_MAX_RESPONSE_BYTES is honoured: a 10 KB refusal over a 1 KiB cap is not read", async () => {
    const { body } = await expectFault(
      uniqueId("FAULT_LONGMESSAGE"),
      502,
      "UPSTREAM_INVALID_RESPONSE",
      { closes: 1, queries: 0 },
      { env: { SPARKPAY_MAX_RESPONSE_BYTES: "1024" } },
    );
    expect(body.message).toMatch(/over 1024 bytes/);
  });
});

describe("what is relayed and logged from SparkPay is bounded", () => {
  it("SparkPay's request id is logged only when short and plain", async () => {
    const lines = await captureLogs(async () => {
      await closeOrder(uniqueId("FAULT_LONGID"));
      await closeOrder(uniqueId("ORDER"));
    });
    const [long, plain] = lines.map((line) => JSON.parse(line));
    expect(long.sparkpay_request_id).toBeUndefined();
    expect(plain.sparkpay_request_id).toMatch(/^sbx_[0-9a-f]{12}$/);
  });
});

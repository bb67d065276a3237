import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { closeOrder, type ErrorEnvelope, sandboxCalls, uniqueId } from "./helpers";

const keys = env.TEST_KEYS;

/** A broken setting: 503 naming the setting and the problem, nothing sent upstream, no value revealed. */
async function expectMisconfigured(overrides: Partial<Env>, message: RegExp) {
  const { response, requestId } = await closeOrder(uniqueId("ORDER"), { env: overrides });
  const text = await response.text();
  expect(response.status).toBe(503);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(body.code).toBe("GATEWAY_MISCONFIGURED");
  expect(body.message).toMatch(message);
  expect(await sandboxCalls(requestId)).toEqual([]);
  for (const value of Object.values(overrides)) {
    if (typeof value === "string" && value.length > 8) expect(text).not.toContain(value.slice(0, 40));
  }
}

describe("settings", () => {
  it.each([
    ["SPARKPAY_PRIVATE_KEY missing", { SPARKPAY_PRIVATE_KEY: "" }, /^SPARKPAY_PRIVATE_KEY is not set/],
    [
      "SPARKPAY_PRIVATE_KEY holding the platform public key",
      { SPARKPAY_PRIVATE_KEY: keys.platformPublic },
      /^SPARKPAY_PRIVATE_KEY holds a public key/,
    ],
    [
      "SPARKPAY_PRIVATE_KEY cut short",
      { SPARKPAY_PRIVATE_KEY: keys.merchantPkcs8.slice(0, 200) },
      /^SPARKPAY_PRIVATE_KEY has PEM armour that is cut short/,
    ],
    [
      "SPARKPAY_PLATFORM_PUBLIC_KEY missing",
      { SPARKPAY_PLATFORM_PUBLIC_KEY: "" },
      /^SPARKPAY_PLATFORM_PUBLIC_KEY is not set/,
    ],
    [
      "SPARKPAY_PLATFORM_PUBLIC_KEY holding the merchant private key",
      { SPARKPAY_PLATFORM_PUBLIC_KEY: keys.merchantPkcs8 },
      /holds a private key/,
    ],
    ["SPARKPAY_APP_ID missing", { SPARKPAY_APP_ID: "" }, /^SPARKPAY_APP_ID is not set/],
    ["SPARKPAY_APP_ID with a space", { SPARKPAY_APP_ID: "app id" }, /^SPARKPAY_APP_ID must be 1-128 visible ASCII/],
    [
      "SPARKPAY_BASE_URL over plain http",
      { SPARKPAY_BASE_URL: "http://api.sparkpay.top" },
      /^SPARKPAY_BASE_URL must be an https:\/\/ URL/,
    ],
    ["SPARKPAY_BASE_URL not a URL", { SPARKPAY_BASE_URL: "api.sparkpay.top" }, /^SPARKPAY_BASE_URL is not a URL/],
    [
      "SPARKPAY_BASE_URL with a query",
      { SPARKPAY_BASE_URL: "https://api.sparkpay.top/?x=1" },
      /without credentials, query or fragment/,
    ],
    [
      "SPARKPAY_BASE_URL with credentials in it",
      { SPARKPAY_BASE_URL: "https://user:secret@api.sparkpay.top" },
      /without credentials, query or fragment/,
    ],
    [
      "SPARKPAY_TIMEOUT_MS not a number",
      { SPARKPAY_TIMEOUT_MS: "fast" },
      /^SPARKPAY_TIMEOUT_MS must be a whole number/,
    ],
    ["SPARKPAY_TIMEOUT_MS too small", { SPARKPAY_TIMEOUT_MS: "10" }, /^SPARKPAY_TIMEOUT_MS must be at least 100/],
    ["SPARKPAY_TIMEOUT_MS too large", { SPARKPAY_TIMEOUT_MS: "600000" }, /^SPARKPAY_TIMEOUT_MS must be at most 60000/],
    [
      "SPARKPAY_VERIFY_RESPONSES unknown",
      { SPARKPAY_VERIFY_RESPONSES: "sometimes" },
      /^SPARKPAY_VERIFY_RESPONSES must be `required` or `off`/,
    ],
  ])("503 GATEWAY_MISCONFIGURED when %s", async (_name, overrides, message) => {
    await expectMisconfigured(overrides, message);
  });

  it("503 when GATEWAY_API_KEYS is empty, without checking the caller's key", async () => {
    const { response } = await closeOrder(uniqueId("ORDER"), { env: { GATEWAY_API_KEYS: " , " } });
    expect(response.status).toBe(503);
    expect(((await response.json()) as ErrorEnvelope).message).toMatch(/^GATEWAY_API_KEYS is not set/);
  });

  it.each([
    ["a PKCS#1 private key", { SPARKPAY_PRIVATE_KEY: keys.merchantPkcs1 }],
    [
      "a private key with flattened newlines",
      { SPARKPAY_PRIVATE_KEY: keys.merchantPkcs8.trim().replaceAll("\n", "\\n") },
    ],
    ["empty optional settings (defaults apply)", { SPARKPAY_TIMEOUT_MS: "", SPARKPAY_VERIFY_RESPONSES: "" }],
    [
      "no platform key while verification is off",
      { SPARKPAY_PLATFORM_PUBLIC_KEY: "", SPARKPAY_VERIFY_RESPONSES: "off" },
    ],
    ["a base URL with a trailing slash", { SPARKPAY_BASE_URL: "https://api.sparkpay.top/" }],
    ["SPARKPAY_VERIFY_RESPONSES in capitals", { SPARKPAY_VERIFY_RESPONSES: "REQUIRED" }],
    ["an unknown LOG_LEVEL (reported by /healthz, never a reason to stop closing orders)", { LOG_LEVEL: "verbose" }],
  ])("works with %s", async (_name, overrides) => {
    const { response, requestId } = await closeOrder(uniqueId("ORDER"), { env: overrides });
    expect(response.status).toBe(200);
    const [call] = await sandboxCalls(requestId);
    expect(call).toMatchObject({ path: "/v4/pay/orders/close", signature_valid: true });
  });
});

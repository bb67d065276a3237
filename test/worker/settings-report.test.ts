import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../../src/settings/report";

const keys = env.TEST_KEYS;
const SECRET = "s".repeat(40);

/** The report for the test env with `overrides`: each setting's check, and whether the close route has its settings. */
async function report(overrides: Record<string, unknown>) {
  const loaded = await loadSettings({ ...env, ...overrides } as Env);
  return { checks: loaded.report.checks, ready: loaded.report.ready, closes: loaded.settings !== undefined };
}

const ok = { status: "ok" };
const problem = (message: RegExp) => ({ status: "problem", message: expect.stringMatching(message) });
const warning = (message: RegExp) => ({ status: "warning", message: expect.stringMatching(message) });
const unused = (message: RegExp) => ({ status: "unused", message: expect.stringMatching(message) });

describe("the settings report: each setting's good and bad values", () => {
  it.each([
    // [setting, value, its check, ready, the close route runs]
    ["SPARKPAY_APP_ID", "app_1", ok, true, true],
    ["SPARKPAY_APP_ID", "", problem(/^SPARKPAY_APP_ID is not set/), false, false],
    ["SPARKPAY_APP_ID", "replace-with-your-app-id", problem(/still the placeholder/), false, false],
    ["SPARKPAY_BASE_URL", "", ok, true, true],
    ["SPARKPAY_BASE_URL", "https://api.sparkpay.top:8443/", ok, true, true],
    ["SPARKPAY_BASE_URL", "http://127.0.0.1:8788", ok, true, true],
    ["SPARKPAY_BASE_URL", "http://api.sparkpay.top", problem(/must be an https:\/\/ URL/), false, false],
    ["SPARKPAY_BASE_URL", "https:/api.sparkpay.top", problem(/must be an https:\/\/ URL/), false, false],
    ["SPARKPAY_BASE_URL", "https://api.sparkpay.top/v4", problem(/without a path/), false, false],
    ["SPARKPAY_BASE_URL", "api.sparkpay.top", problem(/is not a URL/), false, false],
    ["SPARKPAY_TIMEOUT_MS", 5000, ok, true, true],
    ["SPARKPAY_TIMEOUT_MS", "99", problem(/at least 100/), false, false],
    ["SPARKPAY_MAX_RETRIES", 0, ok, true, true],
    ["SPARKPAY_MAX_RETRIES", "6", problem(/at most 5/), false, false],
    ["SPARKPAY_DEADLINE_MS", "2.5", problem(/whole number/), false, false],
    ["SPARKPAY_MAX_RESPONSE_BYTES", "1048577", problem(/at most 1048576/), false, false],
    ["SPARKPAY_VERIFY_RESPONSES", "OFF", ok, true, true],
    ["SPARKPAY_VERIFY_RESPONSES", "maybe", problem(/`required` or `off`/), false, false],
    ["SPARKPAY_CONFIRM_CLOSES", "Always", ok, true, true],
    [
      "SPARKPAY_CONFIRM_CLOSES",
      "never",
      problem(/^SPARKPAY_CONFIRM_CLOSES must be `ambiguous` or `always`\.$/),
      false,
      false,
    ],
    ["CLOSE_GIVE_UP_AFTER_S", "59", problem(/at least 60/), false, false],
    ["CLOSE_RECHECK_AFTER_S", "0", ok, true, true],
    ["CLOSE_RECHECK_AFTER_S", "604801", problem(/at most 604800/), false, false],
    ["CLOSE_RECHECK_AFTER_S", "-1", problem(/whole number/), false, false],
    ["CLOSE_ROUNDS_AT_ONCE", "0", ok, true, true],
    ["CLOSE_ROUNDS_AT_ONCE", "1001", problem(/at most 1000/), false, false],
    ["CLOSE_REPAIR_STALLED_S", "60", ok, true, true],
    ["CLOSE_REPAIR_STALLED_S", "59", problem(/at least 60/), false, false],
    ["LOG_LEVEL", "DEBUG", ok, true, true],
    ["LOG_LEVEL", "loud", warning(/until fixed, info is used/), true, true],
    ["API_DOCS", "off", ok, true, true],
    ["API_DOCS", "maybe", warning(/until fixed, \/docs is off/), true, true],
    ["SPARKPAY_PRIVATE_KEY", keys.merchantPkcs1, ok, true, true],
    ["SPARKPAY_PRIVATE_KEY", "", problem(/is not set\. Fix: store the key with `wrangler secret put/), false, false],
    ["SPARKPAY_PRIVATE_KEY", keys.rsa1024Private, problem(/RSA-1024/), false, false],
    ["SPARKPAY_PLATFORM_PUBLIC_KEY", keys.merchantPublicSpki, problem(/public half of your own/), false, false],
    ["GATEWAY_API_KEYS", "short", problem(/entry 1 is malformed/), false, false],
    ["CALLER_RATE_LIMITER", undefined, problem(/not bound; declare it under \[\[ratelimits\]\]/), false, false],
    // The reads' limiter: not ready, but closes go on.
    ["READ_RATE_LIMITER", undefined, problem(/not bound; declare it under \[\[ratelimits\]\]/), false, true],
    // Only the durable closes need these: not ready, but the close route keeps running.
    ["CLOSE_JOBS_DB", undefined, problem(/not bound; declare it under \[\[d1_databases\]\]/), false, true],
    ["CLOSE_WORKFLOW", {}, problem(/not bound; declare it under \[\[workflows\]\]/), false, true],
    ["CLOSE_WEBHOOK_URL", "http://hooks.example.com/x", problem(/must be an https:\/\/ URL/), false, true],
    ["CLOSE_WEBHOOK_URL", "https://hooks.example.com/x?token=1", problem(/without credentials, query/), false, true],
  ])("%s = %j", async (setting, value, check, ready, closes) => {
    const result = await report({ [setting]: value, CLOSE_WEBHOOK_SECRET: SECRET });
    expect(result.checks[setting]).toEqual(check);
    expect(result.ready).toBe(ready);
    expect(result.closes).toBe(closes);
  });

  it.each([
    ["no webhook URL: the secret is unused", { CLOSE_WEBHOOK_URL: "" }, unused(/CLOSE_WEBHOOK_URL is not set/), true],
    ["a bad URL: the secret waits for it", { CLOSE_WEBHOOK_URL: "ftp://x" }, unused(/not checked until/), false],
    ["a URL and no secret", { CLOSE_WEBHOOK_SECRET: "" }, problem(/^CLOSE_WEBHOOK_SECRET is not set/), false],
    ["a URL and a short secret", { CLOSE_WEBHOOK_SECRET: "short" }, problem(/at least 32 random/), false],
    ["a URL and a good secret", { CLOSE_WEBHOOK_SECRET: SECRET }, ok, true],
  ])("CLOSE_WEBHOOK_SECRET with %s", async (_case, overrides, check, ready) => {
    const result = await report(overrides);
    expect(result.checks.CLOSE_WEBHOOK_SECRET).toEqual(check);
    expect(result.ready).toBe(ready);
    expect(result.closes).toBe(true);
  });

  it("verification off: the platform key is unused, whatever it holds", async () => {
    const result = await report({ SPARKPAY_VERIFY_RESPONSES: "off", SPARKPAY_PLATFORM_PUBLIC_KEY: "" });
    expect(result.checks.SPARKPAY_PLATFORM_PUBLIC_KEY).toEqual(unused(/SPARKPAY_VERIFY_RESPONSES is off/));
    expect(result.ready).toBe(true);
  });

  it("lists every problem at once, never a value", async () => {
    const overrides = { SPARKPAY_TIMEOUT_MS: "soon", GATEWAY_API_KEYS: "tiny", SPARKPAY_APP_ID: "has space" };
    const { checks } = await report(overrides);
    const failing = Object.entries(checks).filter(([, check]) => check.status === "problem");
    expect(failing.map(([name]) => name).sort()).toEqual([
      "GATEWAY_API_KEYS",
      "SPARKPAY_APP_ID",
      "SPARKPAY_TIMEOUT_MS",
    ]);
    const text = JSON.stringify(checks);
    for (const value of Object.values(overrides)) expect(text).not.toContain(value);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callGateway, captureLogs, docUrl, type ErrorEnvelope, MERCHANT, sandboxCalls, uniqueId } from "./helpers";

const OK = { status: "ok" };
const problem = (message: unknown) => ({ status: "problem", message });

const newKey = () => `gw_${crypto.randomUUID().replaceAll("-", "")}`;
const closeBody = (merchantNo = MERCHANT) => JSON.stringify({ request_no: uniqueId("ORDER"), merchant_no: merchantNo });

async function closeWithKey(key: string, keys: string, merchantNo = MERCHANT) {
  return callGateway({
    body: closeBody(merchantNo),
    headers: { Authorization: `Bearer ${key}` },
    env: { GATEWAY_API_KEYS: keys },
  });
}

describe("caller keys scoped to merchants", () => {
  it("a 256-character key works, and that key plus one character does not", async () => {
    const key = `${"k".repeat(255)}Z`;
    expect((await closeWithKey(key, key)).response.status).toBe(200);
    expect((await closeWithKey(`${key}Z`, key)).response.status).toBe(401);
    expect((await closeWithKey(key.slice(0, -1), key)).response.status).toBe(401);
  });

  it("a scoped key closes orders for its merchants", async () => {
    const key = newKey();
    const { response } = await closeWithKey(key, `${newKey()},${key}:M_SANDBOX_002|${MERCHANT}`);
    expect(response.status).toBe(200);
  });

  it("403 FORBIDDEN for a merchant outside the key's scope, with nothing sent upstream", async () => {
    const key = newKey();
    const { response, requestId } = await closeWithKey(key, `${key}:M_SANDBOX_002`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      code: "FORBIDDEN",
      message: "This caller key may not act for this merchant_no.",
      request_id: requestId,
      param: "merchant_no",
      doc_url: docUrl("FORBIDDEN"),
    });
    expect(await sandboxCalls(requestId)).toEqual([]);
  });

  it("a plain key acts for any merchant", async () => {
    const key = newKey();
    expect((await closeWithKey(key, `${key}`, "M_SANDBOX_002")).response.status).toBe(200);
  });

  it.each([
    ["a key under 16 characters", "short_key_123", 1],
    ["a key over 256 characters", "k".repeat(257), 1],
    ["a key with a character outside A-Z a-z 0-9 _ -", "gw_0123456789abcdef!", 1],
    ["an empty merchant list", `${"k".repeat(20)}:`, 1],
    ["a merchant with a hyphen", `${"k".repeat(20)}:M-1`, 1],
    ["a second colon", `${"k".repeat(20)}:M_1:M_2`, 1],
    ["an empty entry between two keys", `${"k".repeat(20)},,${"j".repeat(20)}`, 2],
    [
      "the same key twice (the last entry would silently win)",
      `${"k".repeat(20)}:M_A,${"j".repeat(20)},${"k".repeat(20)}:M_B`,
      3,
    ],
  ])("%s is a configuration error naming the entry, never its value", async (_name, entry, position) => {
    const { response } = await callGateway({ body: closeBody(), env: { GATEWAY_API_KEYS: entry } });
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({
      code: "GATEWAY_MISCONFIGURED",
      message: expect.stringMatching(
        new RegExp(`^GATEWAY_API_KEYS entry ${position} (is malformed|repeats the key of entry 1)`),
      ),
    });
    expect(text).not.toContain(entry.split(",")[0]!.split(":")[0]!);
  });
});

describe("the gateway's own rate limits", () => {
  it("per caller key: 429 RATE_LIMITED with Retry-After once over the limit, before the body is read", async () => {
    const key = newKey();
    const overrides = { GATEWAY_API_KEYS: key, CALLER_RATE_LIMITER: env.TEST_TIGHT_LIMITER };
    for (let i = 0; i < 3; i++) {
      const { response } = await callGateway({
        body: closeBody(),
        headers: { Authorization: `Bearer ${key}` },
        env: overrides,
      });
      expect(response.status).toBe(200);
    }
    const { response, requestId } = await callGateway({
      body: "not even JSON",
      headers: { Authorization: `Bearer ${key}` },
      env: overrides,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("60");
    expect(((await response.json()) as ErrorEnvelope).code).toBe("RATE_LIMITED");
    expect(await sandboxCalls(requestId)).toEqual([]);
  });

  it("per merchant_no, across caller keys", async () => {
    const overrides = { MERCHANT_RATE_LIMITER: env.TEST_TIGHT_LIMITER };
    const merchant = "M_SANDBOX_002";
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await callGateway({ body: closeBody(merchant), env: overrides })).response.status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Another merchant is counted on its own.
    expect((await callGateway({ body: closeBody(MERCHANT), env: overrides })).response.status).toBe(200);
  });
});

describe("GET /healthz", () => {
  it("200 ready, without authentication, listing every check and no value", async () => {
    const { response } = await callGateway({
      method: "GET",
      url: "https://gateway.test/healthz",
      headers: { Authorization: "" },
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      status: "ready",
      version: expect.any(String),
      checks: {
        SPARKPAY_APP_ID: OK,
        SPARKPAY_BASE_URL: OK,
        SPARKPAY_TIMEOUT_MS: OK,
        SPARKPAY_MAX_RETRIES: OK,
        SPARKPAY_DEADLINE_MS: OK,
        SPARKPAY_MAX_RESPONSE_BYTES: OK,
        SPARKPAY_VERIFY_RESPONSES: OK,
        SPARKPAY_CONFIRM_CLOSES: OK,
        CLOSE_GIVE_UP_AFTER_S: OK,
        CLOSE_RECHECK_AFTER_S: OK,
        CLOSE_ROUNDS_AT_ONCE: OK,
        CLOSE_REPAIR_STALLED_S: OK,
        GATEWAY_PUBLIC_URL: OK,
        SPARKPAY_NOTIFY_OAEP_MGF1: OK,
        LOG_LEVEL: OK,
        API_DOCS: OK,
        SPARKPAY_PRIVATE_KEY: OK,
        SPARKPAY_PLATFORM_PUBLIC_KEY: OK,
        GATEWAY_API_KEYS: OK,
        CALLER_RATE_LIMITER: OK,
        MERCHANT_RATE_LIMITER: OK,
        READ_RATE_LIMITER: OK,
        NOTIFY_RATE_LIMITER: OK,
        CLOSE_JOBS_DB: OK,
        CLOSE_WORKFLOW: OK,
        CLOSE_ROUND_GATE: OK,
        NOTIFY_WORKFLOW: OK,
        CLOSE_WEBHOOK_URL: OK,
        CLOSE_WEBHOOK_SECRET: OK,
      },
      merchant_keys: { configured: 1, last_accepted: expect.toBeOneOf([null, 1]) },
      notifications: { receivable: true, oaep_mgf1: "SHA-256", notify_url: null },
    });
    for (const secret of [env.GATEWAY_API_KEYS, env.SPARKPAY_APP_ID]) expect(text).not.toContain(secret);
  });

  it("503 not_ready naming every problem at once, never a value", async () => {
    const broken = {
      SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.rsa1024Private,
      SPARKPAY_PLATFORM_PUBLIC_KEY: env.TEST_KEYS.merchantPkcs8,
      SPARKPAY_TIMEOUT_MS: "soon",
      GATEWAY_API_KEYS: "tiny",
      MERCHANT_RATE_LIMITER: undefined as unknown as RateLimit,
    };
    const { response } = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: broken });
    const text = await response.text();
    expect(response.status).toBe(503);
    const { status, checks } = JSON.parse(text) as { status: string; checks: Record<string, unknown> };
    expect(status).toBe("not_ready");
    expect(checks).toEqual({
      ...Object.fromEntries(Object.keys(checks).map((name) => [name, OK])),
      SPARKPAY_TIMEOUT_MS: problem("SPARKPAY_TIMEOUT_MS must be a whole number."),
      SPARKPAY_PRIVATE_KEY: problem(expect.stringMatching(/RSA-1024 key; at least RSA-2048/)),
      SPARKPAY_PLATFORM_PUBLIC_KEY: problem(expect.stringMatching(/holds a private key/)),
      GATEWAY_API_KEYS: problem(expect.stringMatching(/entry 1 is malformed/)),
      MERCHANT_RATE_LIMITER: problem(expect.stringMatching(/not bound/)),
    });
    expect(checks).toMatchObject({ SPARKPAY_APP_ID: OK, CALLER_RATE_LIMITER: OK });
    expect(text).not.toContain("tiny");
    expect(text).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
  });

  it("an unknown LOG_LEVEL is named but keeps the gateway ready", async () => {
    const { response } = await callGateway({
      method: "GET",
      url: "https://gateway.test/healthz",
      env: { LOG_LEVEL: "verbose" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "ready",
      checks: {
        LOG_LEVEL: {
          status: "warning",
          message: "LOG_LEVEL must be one of debug, info, warn, error; until fixed, info is used.",
        },
      },
    });
  });

  it("logs configuration problems once per isolate", async () => {
    const broken = { ...env, SPARKPAY_TIMEOUT_MS: "never" };
    const errors = await captureLogs(async () => {
      for (let i = 0; i < 3; i++) await callGateway({ body: closeBody(), exactEnv: broken });
    });
    const problems = errors.filter((line) => line.includes("configuration problem"));
    expect(problems).toHaveLength(1);
    expect(JSON.parse(problems[0]!)).toEqual({
      level: "error",
      msg: "configuration problem",
      problems: { SPARKPAY_TIMEOUT_MS: "SPARKPAY_TIMEOUT_MS must be a whole number." },
    });
  });
});

describe("response headers", () => {
  it.each([
    ["a success", { body: closeBody() }, 200],
    ["an error", { body: "{" }, 400],
    ["an unknown route", { method: "GET", url: "https://gateway.test/nope" }, 404],
    ["the health check", { method: "GET", url: "https://gateway.test/healthz" }, 200],
  ])("%s carries no-store and the JSON API security headers", async (_name, options, status) => {
    const { response } = await callGateway(options);
    expect(response.status).toBe(status);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });
});

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import app from "../../src/index";
import { CALLER_KEY, CLOSE_URL, captureLogs, docUrl, GATEWAY_REQUEST_ID, type SandboxCall, uniqueId } from "./helpers";

// Property-based: thousands of generated requests through the whole Worker.
const INVALID_RUNS = 5_000;
const VALID_RUNS = 2_000;

/** Runs `body` with console output captured: every log line must be JSON and free of secrets. */
async function withCheckedLogs(body: () => Promise<number>) {
  let requests = 0;
  const lines = await captureLogs(async () => (requests = await body()));
  expect(lines).toHaveLength(requests);
  for (const line of lines) {
    expect(JSON.parse(line)).toMatchObject({ msg: "request" });
    expect(line).not.toContain(CALLER_KEY);
    expect(line).not.toMatch(/Bearer|[A-Za-z0-9+/]{40,}/);
  }
}

/** An independent statement of the input rule, used only to keep generated "invalid" cases invalid. */
const IDENTIFIER = /^[A-Za-z0-9_]{1,64}$/;
function wouldBeAccepted(authorization: string | undefined, contentType: string | undefined, body: string): boolean {
  if (authorization !== `Bearer ${CALLER_KEY}` || !/^application\/json\s*(;|$)/i.test(contentType ?? "")) return false;
  try {
    const value = JSON.parse(body);
    return (
      typeof value?.request_no === "string" &&
      IDENTIFIER.test(value.request_no) &&
      typeof value?.merchant_no === "string" &&
      IDENTIFIER.test(value.merchant_no)
    );
  } catch {
    return false;
  }
}

/** The gateway's own request ids of one property run, to find what SparkPay received for it. */
const gatewayIds: string[] = [];

async function send(requestId: string, headers: Record<string, string>, body: string) {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(CLOSE_URL, { method: "POST", headers: { ...headers, "X-Request-Id": requestId }, body }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** What SparkPay received for the given gateway request ids. */
async function callsFor(ids: string[]): Promise<SandboxCall[]> {
  const response = await fetch("https://sandbox.control/__sandbox/calls", {
    method: "POST",
    body: JSON.stringify({ request_ids: ids }),
  });
  return ((await response.json()) as { calls: SandboxCall[] }).calls;
}

const headerText = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEF0123456789 /;=+-_.:,\"'"),
  maxLength: 60,
});
const badIdentifier = fc.oneof(
  fc.constant(""),
  fc.string({ minLength: 65, maxLength: 80, unit: fc.constantFrom("a", "Z", "9", "_") }),
  fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" }).filter((s) => !IDENTIFIER.test(s)),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object()),
);
const goodIdentifier = fc.stringMatching(/^[A-Za-z0-9_]{1,64}$/);
const invalidBody = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc
    .jsonValue()
    .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
    .map((v) => JSON.stringify(v)),
  fc
    .record({ request_no: badIdentifier, merchant_no: goodIdentifier }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc
    .record({ request_no: goodIdentifier, merchant_no: badIdentifier }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc
    .string({ minLength: 8_300, maxLength: 8_400 })
    .map((s) => JSON.stringify({ request_no: "A", merchant_no: "B", pad: s })),
);
const authorization = fc.oneof(
  { weight: 3, arbitrary: fc.constant(`Bearer ${CALLER_KEY}`) },
  { weight: 1, arbitrary: headerText },
  { weight: 1, arbitrary: headerText.map((t) => `Bearer ${t}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const contentType = fc.oneof(
  { weight: 3, arbitrary: fc.constant("application/json") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "application/jsonl",
      "",
    ),
  },
  { weight: 1, arbitrary: headerText },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

describe("property: invalid input", () => {
  it(`never a 500, always the envelope, never a call to SparkPay (${INVALID_RUNS} cases)`, async () => {
    const run = uniqueId("fuzzbad");
    let seq = 0;
    await withCheckedLogs(async () => {
      await fc.assert(
        fc.asyncProperty(authorization, contentType, invalidBody, async (auth, type, body) => {
          fc.pre(!wouldBeAccepted(auth, type, body));
          const headers: Record<string, string> = {};
          if (auth !== undefined) headers.Authorization = auth;
          if (type !== undefined) headers["Content-Type"] = type;
          const requestId = `${run}_${seq++}`;
          const response = await send(requestId, headers, body);
          const gatewayId = response.headers.get("x-request-id") ?? "";
          gatewayIds.push(gatewayId);
          expect([400, 401, 413, 415]).toContain(response.status);
          expect(gatewayId).toMatch(GATEWAY_REQUEST_ID);
          const envelope = (await response.json()) as Record<string, unknown>;
          const { param, ...rest } = envelope;
          expect(Object.keys(rest).sort()).toEqual(["code", "doc_url", "message", "request_id"]);
          expect(envelope.request_id).toBe(gatewayId);
          expect(envelope.code).toMatch(/^[A-Z_]+$/);
          expect(envelope.doc_url).toBe(docUrl(envelope.code as string));
          if (param !== undefined)
            expect(["Authorization", "Content-Type", "request_no", "merchant_no"]).toContain(param);
        }),
        { numRuns: INVALID_RUNS },
      );
      return seq;
    });
    expect(seq).toBeGreaterThan(INVALID_RUNS * 0.9);
    expect(await callsFor(gatewayIds.splice(0))).toEqual([]);
  }, 120_000);
});

describe("property: valid input", () => {
  it(`SparkPay's side verifies every signature, and only the two fields are sent (${VALID_RUNS} cases)`, async () => {
    const run = uniqueId("fuzzok");
    let seq = 0;
    await withCheckedLogs(async () => {
      const extraFields = fc.dictionary(fc.string({ unit: "grapheme", maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 4,
      });
      const merchant = fc.oneof(fc.constantFrom("M_SANDBOX_001", "M_SANDBOX_002"), goodIdentifier);
      await fc.assert(
        fc.asyncProperty(goodIdentifier, merchant, extraFields, async (requestNo, merchantNo, extra) => {
          fc.pre(!/^fault_/i.test(requestNo));
          const requestId = `${run}_${seq++}`;
          const body = JSON.stringify({ ...extra, request_no: requestNo, merchant_no: merchantNo });
          const response = await send(
            requestId,
            { Authorization: `Bearer ${CALLER_KEY}`, "Content-Type": "application/json" },
            body,
          );
          gatewayIds.push(response.headers.get("x-request-id") ?? "");
          const known = merchantNo === "M_SANDBOX_001" || merchantNo === "M_SANDBOX_002";
          expect(response.status).toBe(known ? 200 : 400);
          if (!known) expect(((await response.json()) as { code: number }).code).toBe(40008);
        }),
        { numRuns: VALID_RUNS },
      );
      return seq;
    });
    const calls = await callsFor(gatewayIds.splice(0));
    const closes = calls.filter((call) => call.path === "/v4/pay/orders/close");
    expect(closes.length).toBeGreaterThanOrEqual(seq);
    for (const call of calls) expect(call.signature_valid).toBe(true);
    for (const call of closes) expect(call.body_keys).toEqual(["request_no", "merchant_no"]);
  }, 120_000);
});

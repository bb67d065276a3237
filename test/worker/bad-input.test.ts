import { describe, expect, it } from "vitest";
import { callGateway, captureLogs, docUrl, type ErrorEnvelope, MERCHANT, sandboxCalls, uniqueId } from "./helpers";

/** Every bad input: the documented envelope, a request id, never a 500, and nothing sent upstream. */
async function expectRejected(
  options: Parameters<typeof callGateway>[0],
  status: number,
  code: string,
  message?: RegExp,
  param?: string,
) {
  const { response, requestId } = await callGateway(options);
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  expect(response.headers.get("x-request-id")).toBe(requestId);
  const body = (await response.json()) as ErrorEnvelope;
  expect(body).toEqual({
    code,
    message: expect.any(String),
    request_id: requestId,
    doc_url: docUrl(code),
    ...(param === undefined ? {} : { param }),
  });
  if (message) expect(body.message).toMatch(message);
  expect(await sandboxCalls(requestId)).toEqual([]);
  return { response, body };
}

const validBody = () => ({ request_no: uniqueId("ORDER"), merchant_no: MERCHANT });
const json = (value: unknown) => ({ body: JSON.stringify(value) });

describe("authentication", () => {
  it("401 without Authorization", async () => {
    const { response } = await expectRejected(
      { ...json(validBody()), headers: { Authorization: "" } },
      401,
      "UNAUTHORIZED",
      /Bearer/,
      "Authorization",
    );
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("401 with a key that is not configured", async () => {
    await expectRejected(
      { ...json(validBody()), headers: { Authorization: "Bearer gw_not_a_configured_key_000000" } },
      401,
      "UNAUTHORIZED",
      undefined,
      "Authorization",
    );
  });

  it("401 with another scheme", async () => {
    await expectRejected(
      { ...json(validBody()), headers: { Authorization: "Basic dXNlcjpwYXNz" } },
      401,
      "UNAUTHORIZED",
      undefined,
      "Authorization",
    );
  });

  it("401 with a configured key plus a suffix", async () => {
    const { CALLER_KEY } = await import("./helpers");
    await expectRejected(
      { ...json(validBody()), headers: { Authorization: `Bearer ${CALLER_KEY}x` } },
      401,
      "UNAUTHORIZED",
      undefined,
      "Authorization",
    );
  });

  it("401 comes before any other check, even for a body that is not JSON", async () => {
    await expectRejected(
      { body: "<xml/>", headers: { Authorization: "", "Content-Type": "text/xml" } },
      401,
      "UNAUTHORIZED",
      undefined,
      "Authorization",
    );
  });

  it("never echoes the presented key", async () => {
    const { body } = await expectRejected(
      { ...json(validBody()), headers: { Authorization: "Bearer gw_leaky_candidate_key_123456" } },
      401,
      "UNAUTHORIZED",
      undefined,
      "Authorization",
    );
    expect(JSON.stringify(body)).not.toContain("gw_leaky_candidate_key_123456");
  });
});

describe("body", () => {
  it.each([
    ["text/plain", "text/plain"],
    ["form-encoded", "application/x-www-form-urlencoded"],
    ["a JSON look-alike", "application/jsonp"],
    ["missing", ""],
  ])("415 when Content-Type is %s", async (_name, contentType) => {
    await expectRejected(
      { ...json(validBody()), headers: { "Content-Type": contentType } },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      /application\/json/,
      "Content-Type",
    );
  });

  it("accepts Content-Type with a charset parameter", async () => {
    const { response } = await callGateway({
      ...json(validBody()),
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
    expect(response.status).toBe(200);
  });

  it("413 over 8 KiB", async () => {
    const body = JSON.stringify({ ...validBody(), padding: "x".repeat(8 * 1024) });
    await expectRejected({ body }, 413, "PAYLOAD_TOO_LARGE", /8192 bytes/);
  });

  it("413 over 8 KiB when streamed without Content-Length", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(1024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    await expectRejected({ body: stream }, 413, "PAYLOAD_TOO_LARGE");
  });

  it.each([
    ["malformed JSON", '{"request_no": "A1",', /not valid JSON/],
    ["empty body", "", /not valid JSON/],
    ["a JSON array", "[]", /must be a JSON object/],
    ["a JSON string", '"A1"', /must be a JSON object/],
    ["JSON null", "null", /must be a JSON object/],
    ["a JSON number", "42", /must be a JSON object/],
  ])("400 for %s", async (_name, body, message) => {
    await expectRejected({ body }, 400, "INVALID_JSON", message);
  });
});

describe("fields", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp, string]> = [];
  for (const field of ["request_no", "merchant_no"] as const) {
    const other = () => validBody();
    cases.push(
      [`${field} missing`, { ...other(), [field]: undefined }, new RegExp(`^${field} is required`), field],
      [`${field} a number`, { ...other(), [field]: 12345 }, new RegExp(`^${field} must be a string`), field],
      [`${field} null`, { ...other(), [field]: null }, new RegExp(`^${field} must be a string`), field],
      [`${field} an object`, { ...other(), [field]: { id: "A" } }, new RegExp(`^${field} must be a string`), field],
      [`${field} empty`, { ...other(), [field]: "" }, new RegExp(`^${field} must not be empty`), field],
      [
        `${field} 65 characters`,
        { ...other(), [field]: "A".repeat(65) },
        new RegExp(`^${field} must be at most 64 characters`),
        field,
      ],
      [
        `${field} with a hyphen`,
        { ...other(), [field]: "ORDER-1" },
        new RegExp(`^${field} may contain only letters, digits and underscore`),
        field,
      ],
      [`${field} with a space`, { ...other(), [field]: "ORDER 1" }, new RegExp(`^${field} may contain only`), field],
      [`${field} with non-ASCII`, { ...other(), [field]: "订单1" }, new RegExp(`^${field} may contain only`), field],
      [`${field} with a newline`, { ...other(), [field]: "A\n1" }, new RegExp(`^${field} may contain only`), field],
    );
  }
  it.each(cases)("400 when %s, with param naming the field", async (_name, body, message, param) => {
    await expectRejected(json(body), 400, "INVALID_REQUEST", message, param);
  });

  it("accepts exactly 64 characters", async () => {
    const { response } = await callGateway(
      json({ request_no: `L${uniqueId("").padEnd(63, "0")}`.slice(0, 64), merchant_no: MERCHANT }),
    );
    expect(response.status).toBe(200);
  });

  it("ignores unknown fields and never forwards them", async () => {
    const { response, requestId } = await callGateway(
      json({ ...validBody(), amount: 1, notify_url: "https://evil.example" }),
    );
    expect(response.status).toBe(200);
    const [call] = await sandboxCalls(requestId);
    expect(call!.body_keys).toEqual(["request_no", "merchant_no"]);
  });
});

describe("routes", () => {
  it("404 for an unknown path", async () => {
    await expectRejected({ ...json(validBody()), url: "https://gateway.test/v4/pay/orders/open" }, 404, "NOT_FOUND");
  });

  it("404 for the root", async () => {
    await expectRejected({ method: "GET", url: "https://gateway.test/" }, 404, "NOT_FOUND");
  });

  it.each(["GET", "PUT", "DELETE", "PATCH"])("405 for %s on the close route, with Allow: POST", async (method) => {
    const { response } = await expectRejected(
      { method, body: method === "GET" ? null : "{}" },
      405,
      "METHOD_NOT_ALLOWED",
    );
    expect(response.headers.get("allow")).toBe("POST");
  });
});

describe("request ids", () => {
  it("SparkPay receives the gateway's own unique id, never the caller's; the caller's is logged beside it", async () => {
    let ids = { requestId: "", callerRequestId: "" };
    const lines = await captureLogs(async () => {
      const { requestId, callerRequestId } = await callGateway(json(validBody()));
      ids = { requestId, callerRequestId };
    });
    expect(ids.requestId).not.toBe(ids.callerRequestId);
    expect(await sandboxCalls(ids.requestId)).toHaveLength(1);
    expect(await sandboxCalls(ids.callerRequestId)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ request_id: ids.requestId, caller_request_id: ids.callerRequestId });
  });

  it("two callers sending the same id get different gateway ids", async () => {
    const shared = { headers: { "X-Request-Id": "order-42" } };
    const first = await callGateway({ ...json(validBody()), ...shared });
    const second = await callGateway({ ...json(validBody()), ...shared });
    expect(first.requestId).not.toBe(second.requestId);
  });

  it.each([
    ["with spaces", "a b c"],
    ["too long", "a".repeat(129)],
    ["with a quote", 'abc"def'],
  ])("does not log an inbound id %s", async (_name, inbound) => {
    const lines = await captureLogs(() => callGateway({ ...json(validBody()), headers: { "X-Request-Id": inbound } }));
    expect(JSON.parse(lines[0]!).caller_request_id).toBeUndefined();
  });
});

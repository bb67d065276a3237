import { describe, expect, it } from "vitest";
import { CloseJobsUnavailableError, D1_READ_ATTEMPTS, d1Change, d1Read } from "../../src/closes/d1";
import { describeError } from "../../src/error-response";
import { GatewayError } from "../../src/errors";
import { decodeBase64, encodeBase64 } from "../../src/sparkpay/base64";
import { BodyTooLargeError, readBody } from "../../src/sparkpay/body";
import {
  concat,
  contents,
  encodeElement,
  readChildren,
  readElement,
  TAG_INTEGER,
  TAG_SEQUENCE,
} from "../../src/sparkpay/der";
import {
  ConfigError,
  KeyFormatError,
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayInvalidResponseError,
  SparkPayRateLimitError,
  SparkPayServerError,
  SparkPaySignatureError,
  SparkPayTimeoutError,
} from "../../src/sparkpay/errors";
import { retryAfterSeconds } from "../../src/sparkpay/response-reader";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("base64", () => {
  it.each([
    [[], ""],
    [[0], "AA=="],
    [[0xff, 0xfe], "//4="],
    [[0xfb, 0xff, 0xbf], "+/+/"],
    [[104, 105, 33], "aGkh"],
  ])("%j <-> %s", (values, text) => {
    expect(encodeBase64(bytes(...values))).toBe(text);
    expect([...(decodeBase64(text) ?? [0xdead])]).toEqual(values);
  });

  it("round-trips every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase64(encodeBase64(all))).toEqual(all);
  });

  it.each([
    ["a character outside the alphabet", "aGk!"],
    ["URL-safe characters", "-_-_"],
    ["a length no Base64 text can have", "aGkhA"],
  ])("refuses %s (undefined, so callers can name the problem)", (_name, text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});

describe("der", () => {
  it("reads short and long lengths", () => {
    const short = encodeElement(TAG_INTEGER, bytes(1, 2, 3));
    expect([...short]).toEqual([0x02, 3, 1, 2, 3]);
    expect(readElement(short, 0)).toEqual({ tag: TAG_INTEGER, start: 2, end: 5 });
    const long = encodeElement(TAG_SEQUENCE, new Uint8Array(300));
    expect([...long.subarray(0, 4)]).toEqual([0x30, 0x82, 0x01, 0x2c]);
    expect(readElement(long, 0)).toEqual({ tag: TAG_SEQUENCE, start: 4, end: 304 });
    const medium = encodeElement(TAG_SEQUENCE, new Uint8Array(200));
    expect([...medium.subarray(0, 3)]).toEqual([0x30, 0x81, 200]);
  });

  it("reads the children of a constructed element, and their contents", () => {
    const sequence = encodeElement(
      TAG_SEQUENCE,
      concat(encodeElement(TAG_INTEGER, bytes(7)), encodeElement(TAG_INTEGER, bytes(8, 9))),
    );
    const children = readChildren(sequence, readElement(sequence, 0)!)!;
    expect(children.map((child) => [...contents(sequence, child)])).toEqual([[7], [8, 9]]);
  });

  it.each([
    ["cut short", bytes(0x30, 5, 1, 2)],
    ["a length of length 0", bytes(0x30, 0x80)],
    ["a length of more than 4 bytes", bytes(0x30, 0x85, 1, 1, 1, 1, 1)],
    ["a length running past the end", bytes(0x30, 0x82, 0xff)],
    ["one byte", bytes(0x30)],
  ])("refuses an element %s", (_name, input) => {
    expect(readElement(input, 0)).toBeUndefined();
  });

  it("refuses children that do not fill their parent exactly", () => {
    const parent = bytes(0x30, 4, 0x02, 1, 7, 0x02);
    expect(readChildren(parent, readElement(parent, 0)!)).toBeUndefined();
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  it.each([
    ["absent", null, undefined],
    ["delta-seconds", "120", 120],
    ["delta-seconds with spaces", " 7 ", 7],
    ["an HTTP date 3 s ahead", "Tue, 01 Dec 2026 12:00:03 GMT", 3],
    ["an HTTP date 2.5 s ahead (HTTP dates drop the fraction)", new Date(now + 2_500).toUTCString(), 2],
    ["an HTTP date in the past", "Tue, 01 Dec 2026 11:00:00 GMT", 0],
    ["garbage", "soon", undefined],
  ])("%s", (_name, value, seconds) => {
    expect(retryAfterSeconds(value, now)).toBe(seconds);
  });
});

describe("describeError: what the caller sees for each failure", () => {
  it.each([
    [new GatewayError("FORBIDDEN", "no"), { status: 403, code: "FORBIDDEN", message: "no" }],
    [new ConfigError("SPARKPAY_APP_ID is not set"), { status: 503, code: "GATEWAY_MISCONFIGURED" }],
    [new KeyFormatError("SPARKPAY_PRIVATE_KEY", "is bad.", "fix it."), { status: 503, code: "GATEWAY_MISCONFIGURED" }],
    [
      new SparkPayApiError(400, 40008, "merchant number does not exist", 1),
      { status: 400, code: 40008, message: "merchant number does not exist", upstreamStatus: 400, attempts: 1 },
    ],
    [
      new SparkPayRateLimitError(429, 40011, "limit", 5, 1),
      { status: 429, code: 40011, message: "limit", headers: { "Retry-After": "5" } },
    ],
    [
      new SparkPayRateLimitError(429, undefined, undefined, undefined, 1),
      { status: 429, code: "UPSTREAM_RATE_LIMITED", headers: {} },
    ],
    [
      new SparkPayServerError(503, 3),
      {
        status: 502,
        code: "UPSTREAM_SERVER_ERROR",
        message: "SparkPay answered HTTP 503 (3 attempts).",
        upstreamStatus: 503,
        attempts: 3,
      },
    ],
    [
      new SparkPayTimeoutError(200, 1),
      { status: 504, code: "UPSTREAM_TIMEOUT", message: "SparkPay did not answer within 200 ms (1 attempt)." },
    ],
    [
      new SparkPayConnectionError("SparkPay could not be reached: connect ECONNREFUSED 10.0.0.1", 2),
      { status: 502, code: "UPSTREAM_UNREACHABLE", message: "SparkPay could not be reached (2 attempts)." },
    ],
    [
      new SparkPaySignatureError("bad signature", 1),
      { status: 502, code: "UPSTREAM_SIGNATURE_INVALID", message: "bad signature" },
    ],
    [
      new SparkPayInvalidResponseError("not JSON", 1),
      { status: 502, code: "UPSTREAM_INVALID_RESPONSE", message: "not JSON" },
    ],
  ])("%s", (error, outcome) => {
    expect(describeError(error)).toMatchObject(outcome);
  });

  it.each([new TypeError("secret detail at /src/x.ts:1"), "a string", undefined])(
    "a bug (%s) is INTERNAL_ERROR and never reveals its text",
    (error) => {
      const outcome = describeError(error);
      expect(outcome).toMatchObject({ status: 500, code: "INTERNAL_ERROR" });
      expect(outcome.message).not.toMatch(/secret|src|string/);
    },
  );
});

describe("readBody: a SparkPay answer under the byte cap", () => {
  const padded = (bytes: number, headers: Record<string, string> = {}) =>
    new Response(new TextEncoder().encode(" ".repeat(bytes)), {
      headers: { "Content-Length": String(bytes), ...headers },
    });

  it("reads an answer that declares its length whole, when it fits", async () => {
    expect((await readBody(padded(1000), 1024)).byteLength).toBe(1000);
  });

  it("refuses a declared length over the cap before reading it", async () => {
    const response = padded(2048);
    await expect(readBody(response, 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it("streams (and stops at the cap) an answer with a Content-Encoding: its declared length is not its size", async () => {
    await expect(readBody(padded(2048, { "Content-Encoding": "br" }), 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect((await readBody(padded(100, { "Content-Encoding": "br" }), 1024)).byteLength).toBe(100);
  });

  it("streams an answer without a declared length, stopping at the cap", async () => {
    const chunked = () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(600));
          },
        }),
      );
    await expect(readBody(chunked(), 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
  });
});

describe("closes/d1: what D1's failures become", () => {
  const overloaded = () => Promise.reject(new Error("D1 DB is overloaded. Requests queued for too long."));

  it("a read is tried three times, 50 ms then 100 ms apart, then answered as CloseJobsUnavailableError", async () => {
    const pauses: number[] = [];
    let tries = 0;
    const error = await d1Read(
      () => {
        tries++;
        return overloaded();
      },
      async (ms) => void pauses.push(ms),
    ).catch((thrown: unknown) => thrown);
    expect(tries).toBe(D1_READ_ATTEMPTS);
    expect(pauses).toEqual([50, 100]);
    expect(error).toBeInstanceOf(CloseJobsUnavailableError);
    expect((error as CloseJobsUnavailableError).detail).toBe(
      "Error: D1 DB is overloaded. Requests queued for too long.",
    );
    // The caller is told what to do, not D1's words.
    expect(describeError(error)).toMatchObject({
      status: 503,
      code: "CLOSE_JOBS_UNAVAILABLE",
      headers: { "Retry-After": "5" },
      message: expect.not.stringMatching(/overloaded/),
    });
  });

  it("a read that answers on its second try is that answer; a change is tried once", async () => {
    let tries = 0;
    expect(
      await d1Read(
        async () => (++tries < 2 ? overloaded() : "rows"),
        async () => {},
      ),
    ).toBe("rows");
    let changes = 0;
    await expect(
      d1Change(() => {
        changes++;
        return overloaded();
      }),
    ).rejects.toBeInstanceOf(CloseJobsUnavailableError);
    expect(changes).toBe(1);
  });
});

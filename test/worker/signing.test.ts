import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SparkPaySignatureError } from "../../src/sparkpay/errors";
import { importPublicKeys } from "../../src/sparkpay/key-import";
import { signatureMessage, signatureMessageBytes } from "../../src/sparkpay/message";
import { createNonce } from "../../src/sparkpay/nonce";
import { createResponseValidator } from "../../src/sparkpay/validator";
import { createVerifier } from "../../src/sparkpay/verifier";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("signature message", () => {
  it("is three lines, each ending in a newline, the body's included", () => {
    expect(signatureMessage("1700000000", "n0nce", '{"request_no":"A1","merchant_no":"M1"}')).toBe(
      '1700000000\nn0nce\n{"request_no":"A1","merchant_no":"M1"}\n',
    );
  });

  it("keeps an empty body line for GET requests", () => {
    expect(signatureMessage("1700000000", "abc", "")).toBe("1700000000\nabc\n\n");
  });

  it("signs the body's UTF-8 bytes, non-ASCII included", () => {
    expect(hex(signatureMessageBytes("1", "n", '{"k":"é中"}'))).toBe("310a6e0a7b226b223a22c3a9e4b8ad227d0a");
  });

  it("does not trim or re-serialise the body", () => {
    expect(signatureMessage("1", "n", ' { "a" : 1 } ')).toBe('1\nn\n { "a" : 1 } \n');
  });
});

describe("nonce", () => {
  it("is 32 alphanumerics and fresh each time", () => {
    const nonces = Array.from({ length: 1000 }, () => createNonce());
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(nonces).size).toBe(nonces.length);
  });
});

/** A body signed by the sandbox (node:crypto), as SparkPay signs its responses. */
async function signedBySandbox(
  body: string,
  options: { key?: "platform" | "rotated" | "stranger"; skew_s?: number; millis?: boolean } = {},
) {
  const response = await fetch("https://sandbox.control/__sandbox/sign", {
    method: "POST",
    body: JSON.stringify({ body, ...options }),
  });
  const signed = (await response.json()) as { timestamp: string; nonce: string; signature: string };
  return new Headers({
    "Sparkpay-Timestamp": signed.timestamp,
    "Sparkpay-Nonce": signed.nonce,
    "Sparkpay-Signature": signed.signature,
  });
}

describe("response verification", () => {
  const body =
    '{"code":0,"message":"success","data":{"request_no":"R_1","merchant_no":"M","merchant_order_no":"MO 订单"}}';
  const verifierWith = async (...pems: string[]) =>
    createVerifier(await importPublicKeys(pems.join("\n"), "platform key"));
  // The clock is the second the sandbox signed in, less the skew it applied, so ±301 is exact.
  const check = async (headers: Headers, rawBody = body, pems = [env.TEST_KEYS.platformPublic], skew = 0) =>
    createResponseValidator(await verifierWith(...pems)).validate(
      { status: 200, headers, bytes: new TextEncoder().encode(rawBody), attempt: 1 },
      (Number(headers.get("Sparkpay-Timestamp")) - skew) * 1000 + 999,
    );

  describe("a 13-digit timestamp is milliseconds (the signed string keeps the header as sent)", () => {
    const atMs = async (headers: Headers, skewS = 0) => {
      const nowMs = Number(headers.get("Sparkpay-Timestamp")) - skewS * 1000;
      return createResponseValidator(await verifierWith(env.TEST_KEYS.platformPublic)).validate(
        { status: 200, headers, bytes: new TextEncoder().encode(body), attempt: 1 },
        nowMs,
      );
    };
    it("accepts one signed now", async () => {
      const headers = await signedBySandbox(body, { millis: true });
      expect(headers.get("Sparkpay-Timestamp")).toMatch(/^\d{13}$/);
      await expect(atMs(headers)).resolves.toBeUndefined();
    });
    it.each([-301, 301])("rejects one %i s from now", async (skew) => {
      await expect(atMs(await signedBySandbox(body, { millis: true, skew_s: skew }), skew)).rejects.toThrow(
        /301 s from this gateway's clock/,
      );
    });
    it("rejects 14 digits", async () => {
      const headers = await signedBySandbox(body);
      headers.set("Sparkpay-Timestamp", "17000000000000");
      await expect(check(headers)).rejects.toThrow(/not Unix seconds \(or milliseconds\)/);
    });
  });

  it("refuses the same signed answer a second time (a replay), and names it", async () => {
    const validator = createResponseValidator(await verifierWith(env.TEST_KEYS.platformPublic));
    const headers = await signedBySandbox(body);
    const response = { status: 200, headers, bytes: new TextEncoder().encode(body), attempt: 1 };
    const nowMs = Number(headers.get("Sparkpay-Timestamp")) * 1000;
    await expect(validator.validate(response, nowMs)).resolves.toBeUndefined();
    await expect(validator.validate(response, nowMs + 60_000)).rejects.toThrow(/replayed/);
  });

  it("a forged answer reusing a genuine nonce does not make the genuine one look replayed", async () => {
    const validator = createResponseValidator(await verifierWith(env.TEST_KEYS.platformPublic));
    const headers = await signedBySandbox(body);
    const nowMs = Number(headers.get("Sparkpay-Timestamp")) * 1000;
    const forged = { status: 200, headers, bytes: new TextEncoder().encode(`${body} `), attempt: 1 };
    await expect(validator.validate(forged, nowMs)).rejects.toThrow(/does not match/);
    const genuine = { status: 200, headers, bytes: new TextEncoder().encode(body), attempt: 1 };
    await expect(validator.validate(genuine, nowMs)).resolves.toBeUndefined();
  });

  it("accepts SparkPay's signature over the raw body", async () => {
    await expect(check(await signedBySandbox(body))).resolves.toBeUndefined();
  });

  it("rejects the body with one byte changed", async () => {
    const headers = await signedBySandbox(body);
    await expect(check(headers, body.replace("R_1", "R_2"))).rejects.toThrow(
      /does not match any configured platform public key/,
    );
  });

  it("rejects a different serialisation of the same JSON", async () => {
    const headers = await signedBySandbox(body);
    await expect(check(headers, JSON.stringify(JSON.parse(body), null, 1))).rejects.toBeInstanceOf(
      SparkPaySignatureError,
    );
  });

  it("rejects a signature made with a key that is not the platform key", async () => {
    await expect(check(await signedBySandbox(body, { key: "stranger" }))).rejects.toThrow(/does not match/);
  });

  it("accepts any of several platform keys (key rotation)", async () => {
    const headers = await signedBySandbox(body, { key: "rotated" });
    await expect(check(headers)).rejects.toThrow(/does not match/);
    await expect(
      check(headers, body, [env.TEST_KEYS.platformPublic, env.TEST_KEYS.rotatedPlatformPublic]),
    ).resolves.toBeUndefined();
  });

  it.each([-301, 301])("rejects a timestamp %i s from now", async (skew) => {
    await expect(check(await signedBySandbox(body, { skew_s: skew }), body, undefined, skew)).rejects.toThrow(
      /301 s from this gateway's clock \(allowed: 300 s\)/,
    );
  });

  it.each([-300, 300])("accepts a timestamp %i s from now", async (skew) => {
    await expect(check(await signedBySandbox(body, { skew_s: skew }), body, undefined, skew)).resolves.toBeUndefined();
  });

  it.each(["Sparkpay-Signature", "Sparkpay-Timestamp", "Sparkpay-Nonce"])("names a missing %s header", async (name) => {
    const headers = await signedBySandbox(body);
    headers.delete(name);
    await expect(check(headers)).rejects.toThrow(new RegExp(`no ${name} header`));
  });

  it("rejects a signature that is not standard Base64", async () => {
    const headers = await signedBySandbox(body);
    headers.set(
      "Sparkpay-Signature",
      `${headers.get("Sparkpay-Signature")!.replaceAll("+", "-").replaceAll("/", "_")}!`,
    );
    await expect(check(headers)).rejects.toThrow(/does not match/);
  });
});

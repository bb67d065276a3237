import { spawnSync } from "node:child_process";
import { createSign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_APP_ID } from "../../sandbox/sparkpay-sandbox.mjs";
import { buildDeployBundle } from "../../scripts/build-bundle";
import { startLocalGateway } from "../../scripts/local-gateway";
import { generateTestKeys } from "../support/test-keys";

// The deploy bundle, in workerd, signs a real request; the openssl command line checks it.
const keys = generateTestKeys();
const callerKey = keys.callerKeys[0]!;
let mf: Miniflare;
let captured: { headers: Headers; body: string } | undefined;

beforeAll(async () => {
  ({ mf } = await startLocalGateway({
    scriptPath: buildDeployBundle(),
    bindings: {
      SPARKPAY_APP_ID: SANDBOX_APP_ID,
      SPARKPAY_PRIVATE_KEY: keys.merchant.privateKeyPem,
      SPARKPAY_PLATFORM_PUBLIC_KEY: keys.platform.publicKeyPem,
      GATEWAY_API_KEYS: callerKey,
    },
    // Stands in for SparkPay: keeps the signed close request and refuses everything (a refusal is
    // never retried; the confirming query that follows is refused too).
    upstream: async (request) => {
      if (request.method === "POST") captured = { headers: new Headers(request.headers), body: await request.text() };
      return new Response(JSON.stringify({ code: 40009, message: "captured" }), { status: 400 });
    },
  }));
}, 60_000);

afterAll(() => mf?.dispose());

describe("a signature made by the gateway", () => {
  it("verifies with `openssl dgst -sha256 -verify`, and a changed byte does not", async () => {
    const response = await mf.dispatchFetch("http://gateway.test/v4/pay/orders/close", {
      method: "POST",
      headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ request_no: "OPENSSL_CHECK_1", merchant_no: "M_SANDBOX_001" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 40009, message: "captured" });
    const { headers, body } = captured!;
    const dir = mkdtempSync(join(tmpdir(), "gw-openssl-"));
    const message = `${headers.get("Sparkpay-Timestamp")}\n${headers.get("Sparkpay-Nonce")}\n${body}\n`;
    writeFileSync(join(dir, "public.pem"), keys.merchant.publicKeyPem);
    writeFileSync(join(dir, "signature.bin"), Buffer.from(headers.get("Sparkpay-Signature")!, "base64"));
    writeFileSync(join(dir, "message.txt"), message);
    writeFileSync(join(dir, "tampered.txt"), message.replace("OPENSSL_CHECK_1", "OPENSSL_CHECK_2"));
    const verify = (file: string) => {
      const run = spawnSync(
        "openssl",
        [
          "dgst",
          "-sha256",
          "-verify",
          join(dir, "public.pem"),
          "-signature",
          join(dir, "signature.bin"),
          join(dir, file),
        ],
        { encoding: "utf8" },
      );
      return { exitCode: run.status, output: run.stdout.trim() };
    };

    expect(verify("message.txt")).toEqual({ exitCode: 0, output: "Verified OK" });
    expect(verify("tampered.txt")).toEqual({ exitCode: 1, output: "Verification failure" });
  });

  it("is byte for byte what node:crypto's SHA256withRSA makes of the same message", async () => {
    const { headers, body } = captured!;
    const message = `${headers.get("Sparkpay-Timestamp")}\n${headers.get("Sparkpay-Nonce")}\n${body}\n`;
    expect(headers.get("Sparkpay-Signature")).toBe(
      createSign("RSA-SHA256").update(message, "utf8").sign(keys.merchant.privateKeyPem, "base64"),
    );
    expect(headers.get("Sparkpay-Timestamp")).toMatch(/^\d{10}$/);
    expect(headers.get("Sparkpay-App-Id")).toBe(SANDBOX_APP_ID);
    expect(headers.get("Content-Type")).toBe("application/json");
  });
});

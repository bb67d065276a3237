import { spawnSync } from "node:child_process";
import { constants, createDecipheriv, createPublicKey, createVerify, privateDecrypt } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createNotifier, RETRY_SCHEDULE_S } from "../../sandbox/notifier.mjs";
import { generateTestKeys } from "../support/test-keys";

/**
 * The sandbox's notifications checked with tools that share nothing with it or the gateway: the `openssl` command
 * line decrypts the aes_key (OAEP-SHA-256 with MGF1-SHA-1 exactly as Java's default, or MGF1-SHA-256), node:crypto
 * the body and the signature. So the gateway's tests decrypt what SparkPay would send, not what our code expects.
 */

const keys = generateTestKeys();
const dir = mkdtempSync(join(tmpdir(), "gw-notify-"));
const merchantKeyFile = join(dir, "merchant.pem");
writeFileSync(merchantKeyFile, keys.merchant.privateKeyPem);

function notifier() {
  const created = createNotifier({
    merchantPublicKey: createPublicKey(keys.merchant.publicKeyPem),
    platformKey: keys.platform.privateKey,
    appId: "sandbox_app_test",
    now: () => Date.now(),
  });
  created.settings.url = "outbox";
  return created;
}

const order = {
  merchant_no: "M_SANDBOX_001",
  request_no: "NOTIFY_CHECK_1",
  merchant_order_no: "MO_NOTIFY_CHECK_1",
  payment_order_no: "PO0123456789abcdef",
  pay_status: "SUCCESS",
  order_time: 1796365800,
  closed_time: null,
  pay_time: 1796365800,
  paid_after_close: false,
};
const { paid_after_close: _truth, ...shown } = order;

async function oneNotification(mgf1: "SHA-1" | "SHA-256") {
  const sandbox = notifier();
  sandbox.settings.mgf1 = mgf1;
  sandbox.notify(order);
  const [entry] = sandbox.pending();
  sandbox.answer(entry!.id, { status: 200, text: "SUCCESS" });
  return JSON.parse(entry!.body) as { head: { aes_key: string; sign: string; app_id: string }; body: string };
}

/** `openssl pkeyutl -decrypt` with OAEP-SHA-256 and the given MGF1 hash: the AES key's text, or null. */
function opensslDecrypt(aesKey: string, mgf1: "sha1" | "sha256"): string | null {
  const input = join(dir, `key-${mgf1}.bin`);
  writeFileSync(input, Buffer.from(aesKey, "base64"));
  const run = spawnSync(
    "openssl",
    [
      ...["pkeyutl", "-decrypt", "-inkey", merchantKeyFile, "-in", input],
      ...["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", `rsa_mgf1_md:${mgf1}`],
    ],
    { encoding: "latin1" },
  );
  return run.status === 0 ? run.stdout : null;
}

describe("the sandbox's notifications, opened by openssl and node:crypto", () => {
  it.each([
    ["SHA-1", "sha1", "sha256"],
    ["SHA-256", "sha256", "sha1"],
  ] as const)(
    "mgf1 %s: openssl reads aes_key with MGF1-%s only; the body decrypts and its sign verifies",
    async (mgf1, right, wrong) => {
      const { head, body } = await oneNotification(mgf1);
      const aesKey = opensslDecrypt(head.aes_key, right);
      expect(aesKey).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(opensslDecrypt(head.aes_key, wrong)).toBeNull();
      // node:crypto's OAEP ties MGF1 to oaepHash (as Web Crypto does): it reads only the SHA-256 variant.
      const tied = () =>
        privateDecrypt(
          { key: keys.merchant.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
          Buffer.from(head.aes_key, "base64"),
        );
      if (mgf1 === "SHA-256") expect(tied().toString("latin1")).toBe(aesKey);
      else expect(tied).toThrow();
      const keyBytes = Buffer.from(aesKey!, "latin1");
      const decipher = createDecipheriv("aes-256-cbc", keyBytes, keyBytes.subarray(0, 16));
      const text = Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
      expect(JSON.parse(text)).toEqual({ ...shown, notify_time: expect.any(Number) }); // the order as SparkPay shows it
      expect(createVerify("RSA-SHA256").update(text).verify(keys.platform.publicKeyPem, head.sign, "base64")).toBe(
        true,
      );
      expect(head.app_id).toBe("sandbox_app_test");
    },
  );

  it("retries on SparkPay's schedule until SUCCESS, then stops; gives up after the last", async () => {
    const sandbox = notifier();
    sandbox.settings.retry_scale = 0.0001; // 10 s … 2 h become 1 ms … 0.72 s
    sandbox.notify(order);
    for (let answered = 0; answered <= RETRY_SCHEDULE_S.length; answered++) {
      let entry: { id: string; attempt: number } | undefined;
      for (let wait = 0; !entry && wait < 400; wait++) {
        entry = sandbox.pending()[0];
        if (!entry) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(entry?.attempt).toBe(answered);
      sandbox.answer(entry!.id, { status: 200, text: "success" }); // not SUCCESS exactly: retried
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sandbox.stats).toMatchObject({ posts: RETRY_SCHEDULE_S.length + 1, retries: 7, given_up: 1, success: 0 });
    expect(sandbox.pending()).toEqual([]);
  });
});

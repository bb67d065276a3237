import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { merchantKeys, platformKeys } from "../../src/settings/keys";
import { KeyFormatError } from "../../src/sparkpay/errors";
import { importPrivateKeys } from "../../src/sparkpay/key-import";

/** The first (current) key of a SPARKPAY_PRIVATE_KEY value. */
const importPrivateKey = async (raw: string) => (await merchantKeys(raw))[0]!;

const keys = env.TEST_KEYS;
const message = new TextEncoder().encode("1700000000\nnonce\n{}\n");

/** The Base64 inside a PEM, without armour or newlines. */
const bareBase64 = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
const flattened = (pem: string) => pem.trim().replaceAll("\n", "\\n");

async function signWith(raw: string): Promise<string> {
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", await importPrivateKey(raw), message);
  return btoa(String.fromCharCode(...new Uint8Array(signature)));
}

/** Asserts the rejection names the setting and the problem, offers a fix, and leaks nothing of the key. */
async function expectRejected(promise: Promise<unknown>, raw: string, problem: RegExp, fix: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyFormatError);
  const text = (error as Error).message;
  expect(text).toMatch(/^SPARKPAY_(PRIVATE_KEY|PLATFORM_PUBLIC_KEY)/);
  if (raw.trim().length > 80) expect(text).not.toContain(raw.trim().slice(40, 80));
  expect(text).toMatch(problem);
  expect(text).toMatch(fix);
  const secretChunks = bareBase64(raw).match(/.{12}/g) ?? [];
  for (const chunk of secretChunks) expect(text).not.toContain(chunk);
}

describe("merchant private key: accepted forms", () => {
  it.each([
    ["PKCS#8 PEM", keys.merchantPkcs8],
    ["PKCS#1 PEM (BEGIN RSA PRIVATE KEY)", keys.merchantPkcs1],
    ["bare Base64 PKCS#8, no armour", bareBase64(keys.merchantPkcs8)],
    ["bare Base64 PKCS#1, no armour", bareBase64(keys.merchantPkcs1)],
    ["newlines flattened to a literal \\n", flattened(keys.merchantPkcs8)],
    ["PKCS#1 with flattened newlines", flattened(keys.merchantPkcs1)],
    ["CRLF line endings", keys.merchantPkcs8.replaceAll("\n", "\r\n")],
    ["wrapped in quotes by a secret store", `"${flattened(keys.merchantPkcs8)}"`],
    ["armour on one line, newlines turned into spaces", keys.merchantPkcs8.replaceAll("\n", " ")],
  ])("%s signs exactly like the PKCS#8 original", async (_form, raw) => {
    // RSASSA-PKCS1-v1_5 is deterministic: same key, same message, same signature.
    expect(await signWith(raw)).toBe(await signWith(keys.merchantPkcs8));
  });

  it("takes a second key, for rotation, in order", async () => {
    const [current, next] = await merchantKeys(keys.merchantPkcs8 + keys.otherMerchantPkcs8);
    const sign = async (key: CryptoKey) =>
      btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, message))));
    expect(await sign(current!)).toBe(await signWith(keys.merchantPkcs8));
    expect(await sign(next!)).toBe(await signWith(keys.otherMerchantPkcs8));
  });

  it("imports each key text once per isolate", async () => {
    expect(await importPrivateKey(keys.merchantPkcs1)).toBe(await importPrivateKey(keys.merchantPkcs1));
  });
});

describe("merchant private key: rejected forms", () => {
  it.each([
    ["empty", "  ", /is not set/, /wrangler secret put SPARKPAY_PRIVATE_KEY/],
    ["not Base64", "this is not a key at all!", /neither a PEM block nor Base64/, /openssl pkey/],
    [
      "PEM cut short (no END line)",
      keys.merchantPkcs8.split("-----END")[0]!,
      /armour that is cut short/,
      /BEGIN to -----END/,
    ],
    [
      "END label different from BEGIN",
      keys.merchantPkcs8.replace("END PRIVATE KEY", "END RSA PRIVATE KEY"),
      /begins as "PRIVATE KEY" but ends as "RSA PRIVATE KEY"/,
      /openssl pkey/,
    ],
    ["encrypted PKCS#8", keys.merchantEncrypted, /encrypted with a passphrase/, /openssl pkey -in encrypted.pem/],
    [
      "encrypted PKCS#1 (Proc-Type)",
      keys.merchantEncryptedPkcs1,
      /encrypted with a passphrase/,
      /openssl pkey -in encrypted.pem/,
    ],
    [
      "the public key instead",
      keys.merchantPublicSpki,
      /holds a public key, not the merchant private key/,
      /BEGIN PRIVATE KEY/,
    ],
    ["a certificate", keys.certificate, /holds a certificate/, /BEGIN PRIVATE KEY/],
    [
      "an EC key (PKCS#8)",
      keys.ecPrivatePkcs8,
      /holds an EC key; SparkPay signs with RSA/,
      /openssl genpkey -algorithm RSA/,
    ],
    ["an EC key (SEC1)", keys.ecPrivateSec1, /holds an EC key/, /openssl genpkey -algorithm RSA/],
    ["RSA-1024", keys.rsa1024Private, /is an RSA-1024 key; at least RSA-2048/, /rsa_keygen_bits:2048/],
    [
      "three keys in one setting",
      keys.merchantPkcs8 + keys.otherMerchantPkcs8 + keys.merchantPkcs1,
      /holds 3 PEM blocks; it takes the current merchant private key, optionally followed by the next one/,
      /only the merchant private key/,
    ],
    [
      "a bad second key, named as key 2",
      keys.merchantPkcs8 + keys.ecPrivatePkcs8,
      /^SPARKPAY_PRIVATE_KEY \(key 2\) holds an EC key/,
      /openssl genpkey/,
    ],
    [
      "damaged contents",
      keys.merchantPkcs8.replace(/\n(.{8})/, "\nAAAAAAAA"),
      /damaged|format we know/,
      /openssl pkey/,
    ],
  ])("%s", async (_form, raw, problem, fix) => {
    await expectRejected(importPrivateKey(raw), raw, problem, fix);
  });

  it("does not cache a failure", async () => {
    const raw = keys.merchantPkcs8.split("-----END")[0]!;
    await expect(importPrivateKey(raw)).rejects.toBeInstanceOf(KeyFormatError);
    await expect(importPrivateKey(raw)).rejects.toBeInstanceOf(KeyFormatError);
  });
});

describe("platform public keys", () => {
  const verifies = async (raw: string) => {
    const [key] = await platformKeys(raw);
    const signature = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      await importPrivateKey(keys.merchantPkcs8),
      message,
    );
    return crypto.subtle.verify("RSASSA-PKCS1-v1_5", key!, signature, message);
  };

  it.each([
    ["SPKI PEM", keys.merchantPublicSpki],
    ["PKCS#1 PEM (BEGIN RSA PUBLIC KEY)", keys.merchantPublicPkcs1],
    ["bare Base64", bareBase64(keys.merchantPublicSpki)],
    ["flattened newlines", flattened(keys.merchantPublicSpki)],
  ])("%s is accepted", async (_form, raw) => {
    expect(await verifies(raw)).toBe(true);
  });

  it("reads every PEM block, in order, for key rotation", async () => {
    const both = await platformKeys(`${keys.platformPublic}\n${flattened(keys.rotatedPlatformPublic)}`);
    expect(both).toHaveLength(2);
  });

  it.each([
    [
      "a private key",
      keys.merchantPkcs8,
      /\(key 1\) holds a private key; this setting takes SparkPay's platform public key/,
      /SparkPay dashboard/,
    ],
    [
      "a certificate",
      keys.certificate,
      /is an X.509 certificate, not a public key/,
      /openssl x509 -in platform_cert.pem -pubkey -noout/,
    ],
    ["an EC key", keys.ecPublic, /holds an EC key/, /RSA/],
    ["RSA-1024", keys.rsa1024Public, /RSA-1024 key; at least RSA-2048/, /openssl genpkey/],
    [
      "a good key followed by a private key",
      keys.platformPublic + keys.merchantPkcs1,
      /\(key 2\) holds a private key/,
      /SparkPay dashboard/,
    ],
  ])("%s is rejected", async (_form, raw, problem, fix) => {
    await expectRejected(platformKeys(raw), raw, problem, fix);
  });
});

describe("the protocol's key import knows no deployment", () => {
  it.each([
    ["a missing key", "", "store-key"],
    ["PEM armour cut short", env.TEST_KEYS.merchantPkcs8.split("-----END")[0]!, "store-whole-pem"],
  ])(
    "%s: the fix says what to store, a hint says it needs storing, nothing names a secret store",
    async (_c, raw, hint) => {
      const error = await importPrivateKeys(raw, "merchant key").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeyFormatError);
      expect(error).toMatchObject({ setting: "merchant key", storageHint: hint });
      expect((error as Error).message).not.toMatch(/wrangler|\.dev\.vars|SPARKPAY_/);
    },
  );
});

/**
 * Keys for the tests, generated fresh for every run with node:crypto (no key is ever committed),
 * in every format the gateway must accept or reject.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, type KeyExportOptions, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCallerKey, generateRsaKeyPair } from "../../scripts/lib/keygen.ts";

/** A self-signed certificate, the way platform keys sometimes arrive; made with the openssl CLI. */
function certificatePem() {
  const dir = mkdtempSync(join(tmpdir(), "gw-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=sandbox",
      ],
      { stdio: "ignore" },
    );
    return readFileSync(join(dir, "c.pem"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function generateTestKeys() {
  const merchant = generateRsaKeyPair();
  const platform = generateRsaKeyPair();
  const rotatedPlatform = generateRsaKeyPair();
  const otherMerchant = generateRsaKeyPair();
  const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = (key: KeyObject, type: KeyExportOptions<"pem">["type"], extra: Partial<KeyExportOptions<"pem">> = {}) =>
    key.export({ type, format: "pem", ...extra } as KeyExportOptions<"pem">) as string;
  return {
    merchant,
    platform,
    rotatedPlatform,
    callerKeys: [generateCallerKey(), generateCallerKey()],
    /** Variants handed to the workerd tests as one JSON binding. */
    variants: {
      merchantPkcs8: merchant.privateKeyPem,
      merchantPkcs1: pem(merchant.privateKey, "pkcs1"),
      otherMerchantPkcs8: otherMerchant.privateKeyPem,
      otherMerchantPublic: otherMerchant.publicKeyPem,
      merchantPublicSpki: merchant.publicKeyPem,
      merchantPublicPkcs1: pem(merchant.publicKey, "pkcs1"),
      merchantEncrypted: pem(merchant.privateKey, "pkcs8", { cipher: "aes-256-cbc", passphrase: "secret" }),
      merchantEncryptedPkcs1: pem(merchant.privateKey, "pkcs1", { cipher: "aes-256-cbc", passphrase: "secret" }),
      platformPublic: platform.publicKeyPem,
      rotatedPlatformPublic: rotatedPlatform.publicKeyPem,
      rsa1024Private: pem(small.privateKey, "pkcs8"),
      rsa1024Public: pem(small.publicKey, "spki"),
      ecPrivatePkcs8: pem(ec.privateKey, "pkcs8"),
      ecPrivateSec1: pem(ec.privateKey, "sec1"),
      ecPublic: pem(ec.publicKey, "spki"),
      certificate: certificatePem(),
    },
  };
}

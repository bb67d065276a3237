// Key material for `npm run keys`, `npm start`, the tests, soak and bench: node:crypto only, and
// nothing from the sandbox (production tooling must not import the fake SparkPay).
import { generateKeyPairSync, randomBytes } from "node:crypto";

/** A fresh RSA-2048 pair in the formats SparkPay documents (PKCS#8 private, SPKI public). */
export function generateRsaKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
    privateKey,
    publicKey,
  };
}

/** A caller key: 32 URL-safe characters from the CSPRNG. */
export function generateCallerKey() {
  return `gw_${randomBytes(24).toString("base64url")}`;
}

import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { mgf1, OAEP } from "micro-rsa-dsa-dh/rsa.js";
import { contents, readChildren, readElement, TAG_INTEGER, TAG_OCTET_STRING } from "./der";

/**
 * RSA-OAEP decryption of a notification's `aes_key` with a merchant private key (PKCS#8 DER). The OAEP hash is
 * SHA-256, as SparkPay documents; MGF1's hash is a setting because SparkPay does not say it. Web Crypto ties MGF1 to
 * the OAEP hash, so `SHA-256` is Web Crypto's RSA-OAEP; `SHA-1` (what Java's "OAEPWithSHA-256AndMGF1Padding" means)
 * is micro-rsa-dsa-dh's OAEP over BigInt, about 40 times the CPU and not constant-time: the receiver answers every
 * failure the same way and is rate-limited, and the setting is documented as a GUESS to settle from the first real
 * notification.
 */
export const OAEP_MGF1_HASHES = ["SHA-256", "SHA-1"] as const;
export type OaepMgf1Hash = (typeof OAEP_MGF1_HASHES)[number];

/** Decrypts with one key; undefined when the ciphertext does not decrypt under it (never says why). */
export interface OaepDecrypter {
  decrypt(ciphertext: Uint8Array<ArrayBuffer>): Promise<Uint8Array | undefined>;
}

const RSA_OAEP_SHA256 = { name: "RSA-OAEP", hash: "SHA-256" } as const;

async function webCryptoDecrypter(pkcs8: Uint8Array<ArrayBuffer>): Promise<OaepDecrypter> {
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, RSA_OAEP_SHA256, false, ["decrypt"]);
  return {
    async decrypt(ciphertext) {
      try {
        return new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, key, ciphertext));
      } catch {
        return undefined;
      }
    },
  };
}

function bigintOf(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function bytesOf(value: bigint, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = length - 1, rest = value; i >= 0; i--, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  return bytes;
}

/** The modulus and private exponent of a PKCS#8 RSA key: RSAPrivateKey { version, n, e, d, … } in its OCTET STRING. */
function modulusAndExponent(pkcs8: Uint8Array): { n: bigint; d: bigint } {
  const root = readElement(pkcs8, 0);
  const wrapped = root && readChildren(pkcs8, root)?.[2];
  if (!wrapped || wrapped.tag !== TAG_OCTET_STRING) throw new TypeError("Not a PKCS#8 RSA private key.");
  const inner = contents(pkcs8, wrapped);
  const keyRoot = readElement(inner, 0);
  const fields = keyRoot && readChildren(inner, keyRoot);
  const [n, d] = [fields?.[1], fields?.[3]];
  if (n?.tag !== TAG_INTEGER || d?.tag !== TAG_INTEGER) throw new TypeError("Not a PKCS#8 RSA private key.");
  return { n: bigintOf(contents(inner, n)), d: bigintOf(contents(inner, d)) };
}

function sha1MgfDecrypter(pkcs8: Uint8Array): OaepDecrypter {
  const key = modulusAndExponent(pkcs8);
  const oaep = OAEP(sha256, mgf1(sha1));
  const length = (key.n.toString(16).length + 1) >> 1;
  return {
    async decrypt(ciphertext) {
      // A ciphertext at or past the modulus (made for another key, say) is refused before any arithmetic; the same
      // work is done on it reduced, so a refusal costs what a decryption costs whatever the bytes.
      const value = bigintOf(ciphertext);
      const outOfRange = ciphertext.length !== length || value >= key.n;
      try {
        const result = oaep.decrypt(key, outOfRange ? bytesOf(value % key.n, length) : ciphertext);
        return outOfRange ? undefined : result;
      } catch {
        return undefined;
      }
    },
  };
}

/** One decrypter per merchant key (the current one and, during a rotation, the next), for `mgf1`. */
export function createOaepDecrypters(pkcs8Keys: readonly Uint8Array<ArrayBuffer>[], mgf1Hash: OaepMgf1Hash) {
  return Promise.all(
    pkcs8Keys.map((der) => (mgf1Hash === "SHA-256" ? webCryptoDecrypter(der) : Promise.resolve(sha1MgfDecrypter(der)))),
  );
}

import { decodeBase64 } from "./base64";
import { MIN_RSA_MODULUS_BITS, RSA_PKCS1_SHA256 } from "./constants";
import {
  concat,
  contents,
  encodeElement,
  readChildren,
  readElement,
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_NULL,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
} from "./der";
import { ConfigError } from "./errors";

/**
 * Key parsing and import. Keys arrive as people really have them: PKCS#8 or PKCS#1 PEM, bare
 * Base64, newlines flattened to a literal `\n` by a secret store, CRLF. Web Crypto only imports
 * PKCS#8 and SPKI, so PKCS#1 is wrapped here. Errors name the setting, the problem and the fix,
 * never the key's content.
 */

/** A key setting that cannot be used: names the setting, the problem and the fix. */
export class KeyFormatError extends ConfigError {
  override name = "KeyFormatError";
  constructor(
    readonly setting: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${setting} ${problem} Fix: ${fix}`);
  }
}

export type KeyStructure =
  | "pkcs8"
  | "pkcs1-private"
  | "encrypted-pkcs8"
  | "spki"
  | "pkcs1-public"
  | "certificate"
  | "unknown";

export interface KeyBlock {
  /** The PEM label (`PRIVATE KEY`, `RSA PRIVATE KEY`, …), undefined for bare Base64. */
  label: string | undefined;
  der: Uint8Array<ArrayBuffer>;
  structure: KeyStructure;
  /** The algorithm named inside PKCS#8 or SPKI; PKCS#1 is RSA by definition. */
  algorithm: "RSA" | "RSA-PSS" | "EC" | "Ed25519" | "another algorithm" | undefined;
}

const FIX_TO_PKCS8 =
  "convert it with `openssl pkey -in key.pem -out key_pkcs8.pem` and store the whole file, " +
  "BEGIN and END lines included.";
const ENCRYPTED_PROBLEM = "is encrypted with a passphrase, which a Worker cannot supply.";
const FIX_DECRYPT = "decrypt it with `openssl pkey -in encrypted.pem -out key_pkcs8.pem`.";
const FIX_NEW_RSA_KEY =
  "create an RSA-2048 key with " +
  "`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out merchant_private.pem` " +
  "and upload its public key to SparkPay.";

const RSA_ENCRYPTION_OID = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
const ALGORITHM_OIDS: Array<[Uint8Array, NonNullable<KeyBlock["algorithm"]>]> = [
  [RSA_ENCRYPTION_OID, "RSA"],
  [Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a), "RSA-PSS"],
  [Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01), "EC"],
  [Uint8Array.of(0x2b, 0x65, 0x70), "Ed25519"],
];
/** AlgorithmIdentifier { rsaEncryption, NULL }, as PKCS#8 and SPKI wrappers need it. */
const RSA_ALGORITHM_IDENTIFIER = encodeElement(
  TAG_SEQUENCE,
  concat(encodeElement(TAG_OID, RSA_ENCRYPTION_OID), encodeElement(TAG_NULL, new Uint8Array())),
);

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Undo what secret stores and copy-paste do to a PEM: quotes, literal `\n`, CRLF. */
export function normalizeKeyText(raw: string): string {
  let text = raw.trim();
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.at(-1) === text[0])
    text = text.slice(1, -1).trim();
  return text.replace(/\\r\\n|\\n|\\r/g, "\n").replace(/\r\n?/g, "\n");
}

function decodeKeyBase64(setting: string, body: string): Uint8Array<ArrayBuffer> {
  let base64 = body.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (base64.length % 4 !== 0 && !base64.includes("="))
    base64 = base64.padEnd(base64.length + 4 - (base64.length % 4), "=");
  const der = decodeBase64(base64);
  if (!der || der.length === 0) {
    throw new KeyFormatError(
      setting,
      "is neither a PEM block nor Base64 (it has characters outside A-Z a-z 0-9 + / =, or is cut short).",
      FIX_TO_PKCS8,
    );
  }
  return der;
}

function algorithmOf(
  der: Uint8Array,
  algorithmIdentifier: { start: number; end: number; tag: number },
): KeyBlock["algorithm"] {
  const oid = readChildren(der, algorithmIdentifier)?.[0];
  if (!oid || oid.tag !== TAG_OID) return undefined;
  const bytes = contents(der, oid);
  const known = ALGORITHM_OIDS.find(
    ([candidate]) => candidate.length === bytes.length && candidate.every((b, i) => b === bytes[i]),
  );
  return known ? known[1] : "another algorithm";
}

/** Tells key formats apart by their DER structure, which is more reliable than the PEM label. */
export function inspectDer(der: Uint8Array): Pick<KeyBlock, "structure" | "algorithm"> {
  const root = readElement(der, 0);
  const children = root && root.tag === TAG_SEQUENCE && root.end === der.length ? readChildren(der, root) : undefined;
  if (!children) return { structure: "unknown", algorithm: undefined };
  const tags = children.map((child) => child.tag).join(",");
  const [first, second] = children;
  if (tags.startsWith(`${TAG_INTEGER},${TAG_SEQUENCE},${TAG_OCTET_STRING}`))
    return { structure: "pkcs8", algorithm: algorithmOf(der, second!) };
  if (children.length >= 9 && children.every((child) => child.tag === TAG_INTEGER))
    return { structure: "pkcs1-private", algorithm: "RSA" };
  if (tags === `${TAG_SEQUENCE},${TAG_BIT_STRING}`) return { structure: "spki", algorithm: algorithmOf(der, first!) };
  if (tags === `${TAG_INTEGER},${TAG_INTEGER}`) return { structure: "pkcs1-public", algorithm: "RSA" };
  if (tags === `${TAG_SEQUENCE},${TAG_SEQUENCE},${TAG_BIT_STRING}`)
    return { structure: "certificate", algorithm: undefined };
  if (tags === `${TAG_SEQUENCE},${TAG_OCTET_STRING}`) return { structure: "encrypted-pkcs8", algorithm: undefined };
  return { structure: "unknown", algorithm: undefined };
}

/** Splits a setting into its key blocks (PEM blocks, or one bare Base64 key) and identifies each. */
export function readKeyBlocks(setting: string, raw: string | undefined): KeyBlock[] {
  const text = normalizeKeyText(raw ?? "");
  if (!text)
    throw new KeyFormatError(
      setting,
      "is not set.",
      `store the key with \`wrangler secret put ${setting} < key.pem\` (or add it to .dev.vars for local runs).`,
    );
  if (!text.includes("-----BEGIN") && !text.includes("-----END")) {
    const der = decodeKeyBase64(setting, text);
    return [{ label: undefined, der, ...inspectDer(der) }];
  }
  const blocks: KeyBlock[] = [];
  for (const [, beginLabel, body, endLabel] of text.matchAll(PEM_BLOCK)) {
    if (beginLabel !== endLabel) {
      throw new KeyFormatError(
        setting,
        `has a PEM block that begins as "${beginLabel}" but ends as "${endLabel}".`,
        FIX_TO_PKCS8,
      );
    }
    if (body!.includes("ENCRYPTED")) {
      throw new KeyFormatError(setting, ENCRYPTED_PROBLEM, FIX_DECRYPT);
    }
    const der = decodeKeyBase64(setting, body!);
    blocks.push({ label: beginLabel, der, ...inspectDer(der) });
  }
  const begins = text.split("-----BEGIN ").length - 1;
  if (blocks.length === 0 || begins !== blocks.length || text.split("-----END ").length - 1 !== begins) {
    throw new KeyFormatError(
      setting,
      "has PEM armour that is cut short: a BEGIN line without its END line, or the reverse.",
      `store the whole PEM file, from -----BEGIN to -----END, e.g. \`wrangler secret put ${setting} < key.pem\`.`,
    );
  }
  return blocks;
}

function requireRsa(setting: string, block: KeyBlock): void {
  if (block.algorithm !== "RSA") {
    throw new KeyFormatError(
      setting,
      `holds ${block.algorithm === undefined ? "a key of unknown type" : `an ${block.algorithm} key`}; ` +
        "SparkPay signs with RSA (SHA256withRSA).",
      FIX_NEW_RSA_KEY,
    );
  }
}

/** How an error names one key of a setting that holds several: `SETTING (key 2)`. */
function keyName(setting: string, index: number, count: number): string {
  return count > 1 ? `${setting} (key ${index + 1})` : setting;
}

/** The most private keys a setting holds: the current one and, during a rotation, the next. */
export const MAX_PRIVATE_KEYS = 2;

/**
 * The PKCS#8 DER of each RSA private key in the setting, in order (PKCS#1 is wrapped): the current
 * key, optionally followed by the next one while SparkPay switches to it.
 */
export function privateKeysDer(setting: string, raw: string | undefined): Uint8Array<ArrayBuffer>[] {
  const blocks = readKeyBlocks(setting, raw);
  if (blocks.length > MAX_PRIVATE_KEYS) {
    throw new KeyFormatError(
      setting,
      `holds ${blocks.length} PEM blocks; it takes the current merchant private key, ` +
        "optionally followed by the next one during a rotation.",
      "store only the merchant private key(s) (BEGIN PRIVATE KEY … END PRIVATE KEY).",
    );
  }
  return blocks.map((block, index) => privateKeyBlockDer(keyName(setting, index, blocks.length), block));
}

function privateKeyBlockDer(setting: string, block: KeyBlock): Uint8Array<ArrayBuffer> {
  if (block.label?.includes("OPENSSH")) {
    throw new KeyFormatError(
      setting,
      "is an OpenSSH private key, which Web Crypto cannot read.",
      "convert it in place with `ssh-keygen -p -m PKCS8 -f <key file>`.",
    );
  }
  if (block.label === "EC PRIVATE KEY") requireRsa(setting, { ...block, algorithm: "EC" });
  switch (block.structure) {
    case "pkcs8":
      requireRsa(setting, block);
      return block.der;
    case "pkcs1-private":
      // PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING { RSAPrivateKey } }
      return encodeElement(
        TAG_SEQUENCE,
        concat(
          encodeElement(TAG_INTEGER, Uint8Array.of(0)),
          RSA_ALGORITHM_IDENTIFIER,
          encodeElement(TAG_OCTET_STRING, block.der),
        ),
      );
    case "encrypted-pkcs8":
      throw new KeyFormatError(setting, ENCRYPTED_PROBLEM, FIX_DECRYPT);
    case "spki":
    case "pkcs1-public":
    case "certificate":
      throw new KeyFormatError(
        setting,
        `holds a ${block.structure === "certificate" ? "certificate" : "public key"}, not the merchant private key.`,
        "store the private key you generated (BEGIN PRIVATE KEY); its public key is the one you upload to SparkPay.",
      );
    default:
      throw new KeyFormatError(setting, "does not hold a key in any format we know (PKCS#8, PKCS#1).", FIX_TO_PKCS8);
  }
}

/** The SPKI DER of every RSA public key in the setting, in order (PKCS#1 public keys are wrapped). */
export function publicKeysDer(setting: string, raw: string | undefined): Uint8Array<ArrayBuffer>[] {
  return readKeyBlocks(setting, raw).map((block, index) => {
    // Platform keys are a list, so each is always named by its position.
    const name = `${setting} (key ${index + 1})`;
    switch (block.structure) {
      case "spki":
        requireRsa(name, block);
        return block.der;
      case "pkcs1-public":
        // SubjectPublicKeyInfo { rsaEncryption, BIT STRING { 0 unused bits, RSAPublicKey } }
        return encodeElement(
          TAG_SEQUENCE,
          concat(RSA_ALGORITHM_IDENTIFIER, encodeElement(TAG_BIT_STRING, concat(Uint8Array.of(0), block.der))),
        );
      case "certificate":
        throw new KeyFormatError(
          name,
          "is an X.509 certificate, not a public key.",
          "extract its key with `openssl x509 -in platform_cert.pem -pubkey -noout > platform_public.pem`.",
        );
      case "pkcs8":
      case "pkcs1-private":
      case "encrypted-pkcs8":
        throw new KeyFormatError(
          name,
          "holds a private key; this setting takes SparkPay's platform public key.",
          "store the platform public key from your SparkPay dashboard (BEGIN PUBLIC KEY), " +
            "and keep private keys out of this setting.",
        );
      default:
        throw new KeyFormatError(
          name,
          "does not hold a public key in any format we know (SPKI, PKCS#1).",
          "convert it with `openssl pkey -pubin -in platform_public.pem -out platform_spki.pem`.",
        );
    }
  });
}

function requireModulus(setting: string, key: CryptoKey): CryptoKey {
  const bits = (key.algorithm as { modulusLength?: number }).modulusLength ?? 0;
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new KeyFormatError(
      setting,
      `is an RSA-${bits} key; at least RSA-${MIN_RSA_MODULUS_BITS} is required.`,
      FIX_NEW_RSA_KEY,
    );
  }
  return key;
}

// Cache the resolved keys (not in-flight promises) per isolate, keyed by the key text: importing
// costs far more than a signature, and a rejected promise must never be cached.
const privateKeys = new Map<string, CryptoKey[]>();
const publicKeys = new Map<string, CryptoKey[]>();

export async function importPrivateKeys(
  raw: string | undefined,
  setting = "SPARKPAY_PRIVATE_KEY",
): Promise<CryptoKey[]> {
  const cached = privateKeys.get(raw ?? "");
  if (cached) return cached;
  const ders = privateKeysDer(setting, raw);
  const keys = await Promise.all(
    ders.map(async (der, index) => {
      const name = keyName(setting, index, ders.length);
      let key: CryptoKey;
      try {
        key = await crypto.subtle.importKey("pkcs8", der, RSA_PKCS1_SHA256, false, ["sign"]);
      } catch {
        throw new KeyFormatError(
          name,
          "has the shape of an RSA private key but its contents are damaged.",
          FIX_TO_PKCS8,
        );
      }
      return requireModulus(name, key);
    }),
  );
  privateKeys.set(raw!, keys);
  return keys;
}

export async function importPublicKeys(
  raw: string | undefined,
  setting = "SPARKPAY_PLATFORM_PUBLIC_KEY",
): Promise<CryptoKey[]> {
  const cached = publicKeys.get(raw ?? "");
  if (cached) return cached;
  const keys = await Promise.all(
    publicKeysDer(setting, raw).map(async (der, index) => {
      const name = `${setting} (key ${index + 1})`;
      try {
        return requireModulus(name, await crypto.subtle.importKey("spki", der, RSA_PKCS1_SHA256, false, ["verify"]));
      } catch (error) {
        if (error instanceof KeyFormatError) throw error;
        throw new KeyFormatError(
          name,
          "has the shape of an RSA public key but its contents are damaged.",
          "copy the platform public key again from your SparkPay dashboard.",
        );
      }
    }),
  );
  publicKeys.set(raw!, keys);
  return keys;
}

import {
  concat,
  encodeElement,
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_NULL,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
} from "./der";
import { KeyFormatError } from "./errors";
import { ENCRYPTED_PROBLEM, FIX_DECRYPT, FIX_NEW_RSA_KEY, FIX_TO_PKCS8 } from "./key-fixes";
import { type KeyBlock, RSA_ENCRYPTION_OID } from "./key-inspection";
import { readKeyBlocks } from "./pem";

/**
 * From the keys a setting holds to the DER Web Crypto imports: PKCS#8 for private keys and SPKI for public ones
 * (Web Crypto imports nothing else, so PKCS#1 is wrapped here). Anything else is refused with its fix.
 */

/** AlgorithmIdentifier { rsaEncryption, NULL }, as PKCS#8 and SPKI wrappers need it. */
const RSA_ALGORITHM_IDENTIFIER = encodeElement(
  TAG_SEQUENCE,
  concat(encodeElement(TAG_OID, RSA_ENCRYPTION_OID), encodeElement(TAG_NULL, new Uint8Array())),
);

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
export function keyName(setting: string, index: number, count: number): string {
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

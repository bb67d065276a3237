import { contents, readChildren, readElement, TAG_BIT_STRING, TAG_INTEGER, TAG_OCTET_STRING } from "./der";
import { encodeHex } from "./hex";
import { privateKeysDer, publicKeysDer } from "./key-formats";

/**
 * Whether keys are halves of one pair, told by their RSA modulus read from the DER (no import, no
 * extractable keys): used to catch a platform key that is really the merchant key's own public half.
 */

/** The modulus of an RSA key in PKCS#8 (private) or SPKI (public) DER, as hex; undefined if unreadable. */
export function rsaModulus(der: Uint8Array, format: "pkcs8" | "spki"): string | undefined {
  const root = readElement(der, 0);
  const outer = root && readChildren(der, root);
  const wrapped = outer?.[format === "pkcs8" ? 2 : 1];
  const tag = format === "pkcs8" ? TAG_OCTET_STRING : TAG_BIT_STRING;
  if (!wrapped || wrapped.tag !== tag) return undefined;
  // A BIT STRING starts with its count of unused bits (0 here).
  const inner = contents(der, wrapped).subarray(format === "spki" ? 1 : 0);
  const keyRoot = readElement(inner, 0);
  const fields = keyRoot && readChildren(inner, keyRoot);
  // RSAPrivateKey { version, modulus, … }; RSAPublicKey { modulus, publicExponent }.
  const modulus = fields?.[format === "pkcs8" ? 1 : 0];
  if (!modulus || modulus.tag !== TAG_INTEGER) return undefined;
  return encodeHex(contents(inner, modulus)).replace(/^(00)+/, "");
}

/** A key text and what its errors call it. */
export interface NamedKeys {
  setting: string;
  pem: string | undefined;
}

/**
 * True when a public key in `publicKeys` is the public half of a private key in `privateKeys`. Both must parse
 * (KeyFormatError otherwise, naming the setting).
 */
export function pairsWithPrivateKey(privateKeys: NamedKeys, publicKeys: NamedKeys): boolean {
  const own = new Set(privateKeysDer(privateKeys.setting, privateKeys.pem).map((der) => rsaModulus(der, "pkcs8")));
  const candidates = publicKeysDer(publicKeys.setting, publicKeys.pem).map((der) => rsaModulus(der, "spki"));
  return candidates.some((modulus) => modulus !== undefined && own.has(modulus));
}

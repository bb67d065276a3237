import { contents, readChildren, readElement, TAG_BIT_STRING, TAG_INTEGER, TAG_OCTET_STRING } from "./der";
import { privateKeysDer, publicKeysDer } from "./keys";

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
  const hex = [...contents(inner, modulus)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return hex.replace(/^(00)+/, "");
}

/**
 * True when a public key in `publicPem` (named `publicSetting` in errors) is the public half of a
 * merchant private key in SPARKPAY_PRIVATE_KEY. Both must parse (KeyFormatError otherwise).
 */
export function pairsWithPrivateKey(
  privatePem: string | undefined,
  publicPem: string | undefined,
  publicSetting: string,
): boolean {
  const own = new Set(privateKeysDer("SPARKPAY_PRIVATE_KEY", privatePem).map((der) => rsaModulus(der, "pkcs8")));
  const candidates = publicKeysDer(publicSetting, publicPem).map((der) => rsaModulus(der, "spki"));
  return candidates.some((modulus) => modulus !== undefined && own.has(modulus));
}

import {
  contents,
  readChildren,
  readElement,
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
} from "./der";

/** Tells key formats apart by their DER structure, which is more reliable than a PEM label. */

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

export const RSA_ENCRYPTION_OID = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
const ALGORITHM_OIDS: Array<[Uint8Array, NonNullable<KeyBlock["algorithm"]>]> = [
  [RSA_ENCRYPTION_OID, "RSA"],
  [Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a), "RSA-PSS"],
  [Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01), "EC"],
  [Uint8Array.of(0x2b, 0x65, 0x70), "Ed25519"],
];

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

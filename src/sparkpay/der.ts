/** Just enough DER to tell key formats apart and to wrap PKCS#1 keys; not a general ASN.1 parser. */

export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;

/** One element: its tag and where its contents start and end in the buffer. */
export interface DerElement {
  tag: number;
  start: number;
  end: number;
}

/** Reads the element at `offset`; undefined if the bytes there are not well-formed DER. */
export function readElement(bytes: Uint8Array, offset: number): DerElement | undefined {
  if (offset + 2 > bytes.length) return undefined;
  const tag = bytes[offset]!;
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4 || start + lengthBytes > bytes.length) return undefined;
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + bytes[start + i]!;
    start += lengthBytes;
  }
  const end = start + length;
  return end <= bytes.length ? { tag, start, end } : undefined;
}

/** The elements inside a constructed element, or undefined if they do not fill it exactly. */
export function readChildren(bytes: Uint8Array, parent: DerElement): DerElement[] | undefined {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readElement(bytes, offset);
    if (!child || child.end > parent.end) return undefined;
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function contents(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

export function encodeElement(tag: number, content: Uint8Array): Uint8Array<ArrayBuffer> {
  const length = content.length;
  const header =
    length < 0x80
      ? [tag, length]
      : length < 0x100
        ? [tag, 0x81, length]
        : length < 0x10000
          ? [tag, 0x82, length >> 8, length & 0xff]
          : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  const out = new Uint8Array(header.length + length);
  out.set(header);
  out.set(content, header.length);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Lower-case hex of `bytes`: digests, MACs and key moduli are shown and compared this way. */
export function encodeHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

const encoder = new TextEncoder();

/** Lower-case hex of the SHA-256 of `text` (UTF-8): record keys, fingerprints, ids. */
export async function sha256Hex(text: string): Promise<string> {
  return encodeHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}

/** Lower-case hex of `bytes`: digests, MACs and key moduli are shown and compared this way. */
export function encodeHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

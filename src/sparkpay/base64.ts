export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Standard Base64 to bytes; undefined when atob refuses it (a character outside the alphabet, or a
 * length no Base64 text can have), so callers can name the problem. atob rather than a validating
 * regular expression: V8 interprets a regular expression on its first runs, and a 1,700-character
 * key took milliseconds of the first request that way.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The body went past the byte cap; reading stopped there. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`over ${maxBytes} bytes`);
  }
}

/**
 * Reads a body as a stream, counting the bytes as they arrive (after any Content-Encoding is
 * undone, so a gzip bomb counts at its inflated size), and cancels it past `maxBytes`. Never holds
 * more than `maxBytes` plus one chunk.
 */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Lets go of a body that will not be read (a 5xx's, a redirect's), so its connection is freed. */
export function discard(body: ReadableStream | null): void {
  body?.cancel().catch(() => {});
}

const encoder = new TextEncoder();

/**
 * The string SparkPay signs: `<timestamp>\n<nonce>\n<body>\n`. Every line ends in a newline,
 * including the body's, and an empty body (GET) still has its line.
 */
export function signatureMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** The exact bytes that are signed: the message in UTF-8. */
export function signatureMessageBytes(timestamp: string, nonce: string, body: string): Uint8Array<ArrayBuffer> {
  // TextEncoder always returns a fresh ArrayBuffer-backed array; some lib typings say ArrayBufferLike.
  return encoder.encode(signatureMessage(timestamp, nonce, body)) as Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();

/**
 * The string SparkPay signs: `<timestamp>\n<nonce>\n<body>\n`. Every line ends in a newline,
 * including the body's, and an empty body (GET) still has its line.
 */
export function signatureMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * The exact bytes that are signed: the message in UTF-8. A body given as bytes is used as it is,
 * so a response is verified over exactly what arrived, not over a decoded and re-encoded copy.
 */
export function signatureMessageBytes(
  timestamp: string,
  nonce: string,
  body: string | Uint8Array,
): Uint8Array<ArrayBuffer> {
  // TextEncoder always returns a fresh ArrayBuffer-backed array; some lib typings say ArrayBufferLike.
  if (typeof body === "string")
    return encoder.encode(signatureMessage(timestamp, nonce, body)) as Uint8Array<ArrayBuffer>;
  const head = encoder.encode(`${timestamp}\n${nonce}\n`);
  const message = new Uint8Array(head.length + body.length + 1);
  message.set(head);
  message.set(body, head.length);
  message[message.length - 1] = 0x0a;
  return message;
}

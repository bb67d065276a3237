import { decodeBase64 } from "./base64";
import { isIdentifier } from "./identifiers";
import type { OaepDecrypter } from "./oaep-decrypter";
import type { Verifier } from "./verifier";

/**
 * SparkPay's asynchronous notification, opened: `{"head": {"aes_key": <Base64>, "sign"?, …}, "body": <Base64>,
 * "sign"?}`. `aes_key` is RSA-OAEP-encrypted to the merchant key; it holds 32 ASCII characters, the AES-256 key, whose
 * first 16 are the IV of `body` (AES-256-CBC, PKCS#7). `sign` (SHA256withRSA, Base64: a GUESS, as everywhere else in
 * SparkPay's API) covers the decrypted JSON exactly as decrypted; where it sits is UNKNOWN, so `head.sign` is taken,
 * else the top-level `sign`. The order is read from the verified JSON under the query API's names (`merchant_no`,
 * `request_no`: a GUESS); nothing else in it is believed (the receiver confirms with Payment Order Query).
 *
 * Everything here runs on attacker-chosen bytes before anything is authenticated, so every step runs whatever the
 * one before it found (an undecryptable key is replaced by a random one, an undecryptable body by the ciphertext,
 * and the signature is always checked): a failure takes as long as a success, and the caller learns only "not opened".
 */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;
/** Java's "AES" key from a 32-character string: 32 bytes, each a printable ASCII character. */
const AES_KEY_LENGTH = 32;
const IV_LENGTH = 16;
const MAX_SIGNATURE_LENGTH = 2048;

/** Which step refused it: for the operator's log line only, never for the sender. */
export type NotificationFailure = "shape" | "aes_key" | "body" | "signature" | "content";

export interface OpenedNotification {
  /** The decrypted JSON, exactly as decrypted (what `sign` covers). */
  text: string;
  merchant_no: string;
  request_no: string;
}

export type OpenResult = { ok: true; notification: OpenedNotification } | { ok: false; failure: NotificationFailure };

interface Envelope {
  aesKey: Uint8Array<ArrayBuffer>;
  body: Uint8Array<ArrayBuffer>;
  sign: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The envelope's parts, or undefined when it is not the documented shape (no secret is involved yet). */
function readEnvelope(raw: string): Envelope | undefined {
  if (raw.length > MAX_NOTIFICATION_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !isObject(parsed.head)) return undefined;
  const { aes_key: aesKeyText } = parsed.head;
  const sign = typeof parsed.head.sign === "string" ? parsed.head.sign : parsed.sign;
  if (typeof aesKeyText !== "string" || typeof parsed.body !== "string" || typeof sign !== "string") return undefined;
  if (sign.length > MAX_SIGNATURE_LENGTH) return undefined;
  const aesKey = decodeBase64(aesKeyText);
  const body = decodeBase64(parsed.body);
  if (!aesKey || !body || body.length === 0 || body.length % IV_LENGTH !== 0) return undefined;
  return { aesKey, body, sign };
}

function isAesKeyText(bytes: Uint8Array | undefined): bytes is Uint8Array {
  return bytes?.length === AES_KEY_LENGTH && bytes.every((byte) => byte >= 0x20 && byte <= 0x7e);
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Opens SparkPay's notifications with the merchant key(s) and the platform key(s). */
export class NotificationOpener {
  /** What a key that did not decrypt is replaced by, so the body is always decrypted with something. */
  private readonly stand_in = crypto.getRandomValues(new Uint8Array(AES_KEY_LENGTH));

  constructor(
    private readonly decrypters: readonly OaepDecrypter[],
    private readonly verifier: Verifier,
  ) {}

  async open(raw: string): Promise<OpenResult> {
    const envelope = readEnvelope(raw);
    if (!envelope) return { ok: false, failure: "shape" };
    // Every key is tried, even after one decrypted: the time does not say which key, or whether any, did.
    let keyText: Uint8Array | undefined;
    for (const decrypter of this.decrypters) {
      const decrypted = await decrypter.decrypt(envelope.aesKey);
      if (keyText === undefined && isAesKeyText(decrypted)) keyText = decrypted;
    }
    const keyBytes = keyText ?? this.stand_in;
    const plaintext = await this.decryptBody(keyBytes, envelope.body);
    const signed = plaintext ?? envelope.body;
    const signatureValid = await this.verifier.verifyMessage(signed as Uint8Array<ArrayBuffer>, envelope.sign);
    if (keyText === undefined) return { ok: false, failure: "aes_key" };
    if (plaintext === undefined) return { ok: false, failure: "body" };
    if (!signatureValid) return { ok: false, failure: "signature" };
    return this.read(plaintext);
  }

  private async decryptBody(keyBytes: Uint8Array, body: Uint8Array<ArrayBuffer>): Promise<Uint8Array | undefined> {
    try {
      const key = await crypto.subtle.importKey("raw", keyBytes as Uint8Array<ArrayBuffer>, "AES-CBC", false, [
        "decrypt",
      ]);
      const iv = keyBytes.slice(0, IV_LENGTH);
      return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, key, body));
    } catch {
      return undefined;
    }
  }

  /** The verified JSON: an object naming the order by SparkPay's identifier rule. */
  private read(plaintext: Uint8Array): OpenResult {
    let text: string;
    let fields: unknown;
    try {
      text = decoder.decode(plaintext);
      fields = JSON.parse(text);
    } catch {
      return { ok: false, failure: "content" };
    }
    if (!isObject(fields) || !isIdentifier(fields.merchant_no) || !isIdentifier(fields.request_no)) {
      return { ok: false, failure: "content" };
    }
    return { ok: true, notification: { text, merchant_no: fields.merchant_no, request_no: fields.request_no } };
  }
}

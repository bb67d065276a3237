import { decodeBase64 } from "./base64";
import { KeyFormatError } from "./errors";
import { ENCRYPTED_PROBLEM, FIX_DECRYPT, FIX_TO_PKCS8 } from "./key-fixes";
import { inspectDer, type KeyBlock } from "./key-inspection";

/**
 * PEM handling: keys arrive as people really have them (PEM with one or more blocks, bare Base64, newlines flattened
 * to a literal `\n` by a secret store, CRLF, quotes), and leave as identified DER blocks. Errors name the key, the
 * problem and the fix, never the key's content.
 */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Undo what secret stores and copy-paste do to a PEM: quotes, literal `\n`, CRLF. */
export function normalizeKeyText(raw: string): string {
  let text = raw.trim();
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.at(-1) === text[0])
    text = text.slice(1, -1).trim();
  return text.replace(/\\r\\n|\\n|\\r/g, "\n").replace(/\r\n?/g, "\n");
}

function decodeKeyBase64(setting: string, body: string): Uint8Array<ArrayBuffer> {
  let base64 = body.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (base64.length % 4 !== 0 && !base64.includes("="))
    base64 = base64.padEnd(base64.length + 4 - (base64.length % 4), "=");
  const der = decodeBase64(base64);
  if (!der || der.length === 0) {
    throw new KeyFormatError(
      setting,
      "is neither a PEM block nor Base64 (it has characters outside A-Z a-z 0-9 + / =, or is cut short).",
      FIX_TO_PKCS8,
    );
  }
  return der;
}

/** Splits a setting into its key blocks (PEM blocks, or one bare Base64 key) and identifies each. */
export function readKeyBlocks(setting: string, raw: string | undefined): KeyBlock[] {
  const text = normalizeKeyText(raw ?? "");
  if (!text) throw new KeyFormatError(setting, "is not set.", "store the key.", "store-key");
  if (!text.includes("-----BEGIN") && !text.includes("-----END")) {
    const der = decodeKeyBase64(setting, text);
    return [{ label: undefined, der, ...inspectDer(der) }];
  }
  const blocks: KeyBlock[] = [];
  for (const [, beginLabel, body, endLabel] of text.matchAll(PEM_BLOCK)) {
    if (beginLabel !== endLabel) {
      throw new KeyFormatError(
        setting,
        `has a PEM block that begins as "${beginLabel}" but ends as "${endLabel}".`,
        FIX_TO_PKCS8,
      );
    }
    if (body!.includes("ENCRYPTED")) {
      throw new KeyFormatError(setting, ENCRYPTED_PROBLEM, FIX_DECRYPT);
    }
    const der = decodeKeyBase64(setting, body!);
    blocks.push({ label: beginLabel, der, ...inspectDer(der) });
  }
  const begins = text.split("-----BEGIN ").length - 1;
  if (blocks.length === 0 || begins !== blocks.length || text.split("-----END ").length - 1 !== begins) {
    throw new KeyFormatError(
      setting,
      "has PEM armour that is cut short: a BEGIN line without its END line, or the reverse.",
      "store the whole PEM file, from -----BEGIN to -----END.",
      "store-whole-pem",
    );
  }
  return blocks;
}

/**
 * SparkPay's identifier rule (from order creation): 1-64 letters, digits or underscore, for request_no and, by the
 * same rule, merchant_no. SparkPay compares request_no without regard to case, but only ASCII letters fold: Unicode
 * folding would turn the Kelvin sign into "k" and merge orders SparkPay keeps apart.
 */
export const IDENTIFIER_MAX_LENGTH = 64;
/** The characters an identifier may hold (its length is checked apart, so the message can say which rule broke). */
export const IDENTIFIER_CHARACTERS = /^[A-Za-z0-9_]+$/;

/** Whether `text` is a whole identifier: the right characters and 1-64 of them. */
export function isIdentifier(text: unknown): text is string {
  return typeof text === "string" && text.length <= IDENTIFIER_MAX_LENGTH && IDENTIFIER_CHARACTERS.test(text);
}

/** A-Z to a-z and nothing else. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}

import * as v from "valibot";
import { ConfigError } from "./sparkpay/errors";
import { sha256Hex } from "./sparkpay/hex";
import { identifier } from "./sparkpay/schemas";

/**
 * Caller keys, in one place: how GATEWAY_API_KEYS is written and read, how a presented key is
 * matched (in constant time), which merchants a key may act for, and what its rate limit counts.
 */

/** Caller keys are compared over this many characters whatever their length, so the time taken says nothing. */
export const MAX_CALLER_KEY_LENGTH = 256;
const CALLER_KEY_PATTERN = new RegExp(`^[A-Za-z0-9_-]{16,${MAX_CALLER_KEY_LENGTH}}$`);
/** A scoped key's merchants follow the same rule as merchant_no in requests. */
const MERCHANT_NO = identifier("merchant_no");

/** A caller key, as the gateway keeps it: its text for comparison, an id for logs and limits, its merchants. */
export interface CallerKey {
  key: string;
  /** First 6 bytes of the key's SHA-256 in hex: names the caller in logs and limits without revealing the key. */
  id: string;
  /** The merchant_no values this key may act for; undefined means any. */
  merchants: ReadonlySet<string> | undefined;
}

async function keyId(key: string): Promise<string> {
  return (await sha256Hex(key)).slice(0, 12);
}

/** GATEWAY_API_KEYS: `<key>` (any merchant) or `<key>:<merchant_no>|<merchant_no>…`, comma-separated. */
export async function parseCallerKeys(raw: string | undefined): Promise<CallerKey[]> {
  const entries = (raw ?? "").split(",").map((entry) => entry.trim());
  if (entries.every((entry) => !entry)) {
    throw new ConfigError(
      "GATEWAY_API_KEYS is not set; it takes one or more caller keys, comma-separated " +
        "(`wrangler secret put GATEWAY_API_KEYS`).",
    );
  }
  const seen = new Map<string, number>();
  return Promise.all(
    entries.map(async (entry, index) => {
      const [key = "", scope, ...rest] = entry.split(":");
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        // Two entries for one key would silently make the last one win (and narrow or widen its scope).
        throw new ConfigError(
          `GATEWAY_API_KEYS entry ${index + 1} repeats the key of entry ${earlier + 1}; ` +
            "list each key once, with all its merchants.",
        );
      }
      seen.set(key, index);
      const merchants = scope?.split("|");
      const wellFormed =
        CALLER_KEY_PATTERN.test(key) &&
        rest.length === 0 &&
        (merchants === undefined || merchants.every((merchant) => v.is(MERCHANT_NO, merchant)));
      if (!wellFormed) {
        throw new ConfigError(
          `GATEWAY_API_KEYS entry ${index + 1} is malformed: each entry is a key of 16 to ${MAX_CALLER_KEY_LENGTH} ` +
            "of A-Z a-z 0-9 _ -, optionally followed by :MERCHANT_NO|MERCHANT_NO (no empty entries).",
        );
      }
      return { key, id: await keyId(key), merchants: merchants && new Set(merchants) };
    }),
  );
}

/**
 * The configured key matching `token`, if any, in constant time: every configured key is compared
 * over MAX_CALLER_KEY_LENGTH characters, so the time taken reveals neither a key's length, nor how
 * much of it matched, nor which key matched. Synchronous: no digest per request.
 */
export function findCallerKey(keys: readonly CallerKey[], token: string): CallerKey | undefined {
  if (token.length > MAX_CALLER_KEY_LENGTH) return undefined;
  let match: CallerKey | undefined;
  for (const candidate of keys) {
    let difference = candidate.key.length ^ token.length;
    // charCodeAt past the end is NaN, and NaN | 0 is 0: both sides read as zero-padded.
    for (let i = 0; i < MAX_CALLER_KEY_LENGTH; i++) {
      difference |= (candidate.key.charCodeAt(i) | 0) ^ (token.charCodeAt(i) | 0);
    }
    if (difference === 0) match = candidate;
  }
  return match;
}

/** Whether this key may act for `merchantNo`: a plain key acts for any merchant, a scoped one for its own. */
export function mayActFor(caller: CallerKey, merchantNo: string): boolean {
  return caller.merchants === undefined || caller.merchants.has(merchantNo);
}

/** What the per-caller rate limit counts: the key's id, never the key, since it leaves the Worker. */
export function callerLimitKey(caller: CallerKey): string {
  return `caller:${caller.id}`;
}

import { GatewayError } from "../errors";
import type { Edition } from "../sparkpay/constants";
import { sha256Hex } from "../sparkpay/hex";

/**
 * What a creation request becomes on its way to SparkPay, and what makes two of them the same request. The body is
 * forwarded field for field as the caller sent it (unknown fields too), less the gateway's own `close_at`, with
 * `notify_url` the gateway's receiver.
 */

/** Real orders with a long `divide_detail.other_details` list fit; SparkPay's own limit is UNKNOWN. */
export const CREATE_MAX_BODY_BYTES = 32 * 1024;
/** Deeper JSON than any SparkPay field needs is refused before it is walked. */
const MAX_DEPTH = 16;

/**
 * 400 for a body the gateway could not forward exactly: JavaScript reads integers past 2^53 as other numbers and a
 * number past 1.8e308 as Infinity (forwarded as null), and nesting past MAX_DEPTH is no order field.
 */
export function requireForwardable(value: unknown, depth = 0, path = "body"): void {
  if (depth > MAX_DEPTH) {
    throw new GatewayError("INVALID_REQUEST", `${path} is nested deeper than ${MAX_DEPTH} levels.`);
  }
  if (typeof value === "number") {
    const what = !Number.isFinite(value)
      ? "a number too large to be forwarded exactly"
      : Number.isInteger(value) && !Number.isSafeInteger(value)
        ? "an integer beyond 2^53, which cannot be forwarded exactly"
        : undefined;
    if (what) {
      // The top-level field the value sits in names the param.
      const param = path.split(/[.[]/)[1] ?? path;
      throw new GatewayError("INVALID_REQUEST", `${path} is ${what}; send it as a string.`, { param });
    }
  }
  if (typeof value !== "object" || value === null) return;
  for (const [key, item] of Object.entries(value)) {
    requireForwardable(item, depth + 1, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
  }
}

/** The body SparkPay gets: the caller's fields in the caller's order, without close_at, notify_url the gateway's. */
export function forwardedBody(body: Record<string, unknown>, notifyUrl: string): string {
  const { close_at: _gatewayOnly, ...fields } = body;
  return JSON.stringify({ ...fields, notify_url: notifyUrl });
}

/** JSON with every object's keys sorted: the same request whatever order its fields came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What identifies a creation request: its edition and its body as the caller sent it (close_at included). */
export async function creationFingerprint(edition: Edition, body: Record<string, unknown>): Promise<string> {
  return sha256Hex(`${edition}\n${canonicalJson(body)}`);
}

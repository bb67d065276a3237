import { callerLimitKey } from "../caller-keys";
import { rateLimit } from "./rate-limit";

/**
 * The limits: per caller key (every route with a key, right after authentication), and per merchant_no once the input
 * is validated and in scope: one budget for closes, one of their own for reads, so polling never starves closing.
 */
export const callerLimit = rateLimit({
  binding: "CALLER_RATE_LIMITER",
  key: (c) => callerLimitKey(c.get("caller")),
  subject: "caller key",
});

export const merchantLimit = rateLimit({
  binding: "MERCHANT_RATE_LIMITER",
  key: (c) => `merchant:${c.get("merchantNo")}`,
  subject: "merchant_no",
});

export const readLimit = rateLimit({
  binding: "READ_RATE_LIMITER",
  key: (c) => `merchant:${c.get("merchantNo")}`,
  subject: "merchant_no's reads",
});
